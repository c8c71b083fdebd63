// The Suishin web page: projects and their 推進管理表, a KPI's regions,
// history and aggregate, live alerts, recording actuals and uploading CSV.
// Plain ES module, no build step; every figure comes from the gateway's JSON
// routes (/openapi.json lists them), every rate as kpi-service formats it.

const main = document.getElementById('main');
const who = document.getElementById('who');

// ---- session: a bearer token kept for this tab only ----

const session = {
  token: sessionStorage.getItem('suishin.token') || '',
  claims: null,
  // operationId → roles that may call it ("*": any), from /openapi.json.
  access: {},
};

function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function signIn(token) {
  session.token = token.trim();
  session.claims = decodeClaims(session.token);
  sessionStorage.setItem('suishin.token', session.token);
}

function signOut() {
  session.token = '';
  session.claims = null;
  sessionStorage.removeItem('suishin.token');
}

// True when the signed-in caller's roles may call `operationId`
// ("KpiService.RecordActual"), as the services' access declarations say.
export function may(operationId) {
  const roles = session.access[operationId];
  if (!roles || !session.claims) return false;
  if (roles.includes('*')) return true;
  return (session.claims.roles || []).some((role) => roles.includes(role));
}

// ---- the gateway's JSON ----

class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, { method = 'GET', body, contentType } = {}) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined && contentType === undefined) {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  } else if (contentType) {
    headers['Content-Type'] = contentType;
  }
  const response = await fetch(path, { method, headers, body });
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

// Follows a Server-Sent Events route, resuming from the last event id after
// a dropped connection, until `signal` aborts. fetch, not EventSource, so
// that the token goes in the Authorization header.
async function follow(path, onEvent, signal) {
  let lastId = '';
  while (!signal.aborted) {
    try {
      const headers = { Accept: 'text/event-stream' };
      if (session.token) headers.Authorization = `Bearer ${session.token}`;
      if (lastId) headers['Last-Event-ID'] = lastId;
      const response = await fetch(path, { headers, signal });
      if (response.ok) {
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id = '';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) id = line.slice(4);
              if (line.startsWith('data: ')) data = line.slice(6);
            }
            if (!data) continue;
            if (id) lastId = id;
            onEvent(JSON.parse(data));
          }
        }
      }
    } catch (error) {
      if (signal.aborted) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---- small helpers for building the page ----

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function showError(error) {
  return h('p', { class: 'error', role: 'alert' }, error.message || String(error));
}

// "10カ所", "43.4%": a value as the table prints it.
function formatValue(value, kpi) {
  if (value === undefined || value === null) return '';
  const digits = kpi.valueKind === 'VALUE_KIND_PERCENT' || !Number.isInteger(value) ? 1 : 0;
  const text = value.toLocaleString('ja-JP', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return kpi.valueKind === 'VALUE_KIND_PERCENT' ? `${text}%` : `${text}${kpi.unit || ''}`;
}

// A baseline's or target's value: the JSON mapping leaves out a 0.
const valueOf = (figure) => (figure ? figure.value ?? 0 : undefined);

// "R元 (2019)" → "R元": the era label as the printed table heads its columns.
const eraOf = (label) => (label || '').replace(/\s*\(\d{4}\)$/, '');

const STATUS_CLASS = {
  PROGRESS_STATUS_LAGGING: 'lagging',
  PROGRESS_STATUS_ACHIEVED: 'achieved',
};

const currentFiscalYear = () => {
  const now = new Date();
  return now.getMonth() >= 3 ? now.getFullYear() : now.getFullYear() - 1;
};

// ---- views ----

async function projectsView() {
  const { projects = [] } = await api('/v1/projects?page_size=200');
  await regionName('');
  return [
    h('h1', {}, 'プロジェクト'),
    h(
      'table',
      { class: 'list' },
      h('tr', {}, h('th', {}, 'プロジェクト'), h('th', {}, '地域'), h('th', {}, '柱')),
      projects.map((project) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: `#/projects/${encodeURIComponent(project.id)}` }, project.title)),
          h('td', { class: 'area' }, regionNames[project.areaId] || project.areaId),
          h('td', {}, (project.pillars || []).map((pillar) => pillar.title).join('、')),
        ),
      ),
    ),
  ];
}

// A KPI region's actuals against the straight pace line from the baseline to
// the target, and the target.
function chart(table, row) {
  const kpi = table.kpi;
  const base = row.baseline;
  const target = row.target;
  if (!base || !target || !base.fiscalYear || !target.fiscalYear) return null;
  const x0 = base.fiscalYear.year;
  const x1 = target.fiscalYear.year;
  const points = (row.points || []).filter((p) => p.value !== undefined);
  const baseValue = valueOf(base);
  const targetValue = valueOf(target);
  const values = [baseValue, targetValue, ...points.map((p) => p.value)];
  const top = Math.max(...values) * 1.15 || 1;
  const width = 240;
  const height = 120;
  const pad = 22;
  const x = (year) => pad + ((year - x0) / Math.max(1, x1 - x0)) * (width - 2 * pad);
  const y = (value) => height - pad - (value / top) * (height - 2 * pad);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${row.regionName} ${kpi.name}: 実績とペース、目標`);
  const add = (tag, attributes, text) => {
    const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    svg.append(element);
  };
  add('line', { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: '#c9ced6' });
  add('line', { class: 'pace', x1: x(x0), y1: y(baseValue), x2: x(x1), y2: y(targetValue) });
  const line = [[x0, baseValue], ...points.map((p) => [p.fiscalYear.year, p.value])];
  add('polyline', { class: 'actual', points: line.map(([a, b]) => `${x(a)},${y(b)}`).join(' ') });
  for (const point of points) {
    add('circle', {
      class: `dot ${STATUS_CLASS[point.status] || ''}`,
      cx: x(point.fiscalYear.year),
      cy: y(point.value),
      r: 3,
    });
  }
  add('rect', { class: 'target', x: x(x1) - 4, y: y(targetValue) - 4, width: 8, height: 8 });
  add('text', { x: pad, y: height - 6 }, eraOf(base.fiscalYear.label));
  add('text', { x: width - pad - 18, y: height - 6 }, eraOf(target.fiscalYear.label));
  add('text', { x: x(x1) - 30, y: y(targetValue) - 7 }, `目標 ${formatValue(targetValue, kpi)}`);
  return h(
    'figure',
    { class: 'chart' },
    svg,
    h('figcaption', {}, `${row.regionName}　実績（実線）・ペース（破線）・目標（■）`),
  );
}

// One KPI's table as printed: regions down; 基準, each year's 実績 with its
// 進捗率 under it, 目標 (with the value before a revision).
function kpiTable(table) {
  const kpi = table.kpi;
  const years = table.years || [];
  const rows = table.rows || [];
  const baseYear = rows[0]?.baseline?.fiscalYear?.year;
  const targetYear = rows[0]?.target?.fiscalYear?.year;
  const head = h(
    'tr',
    {},
    h('th', {}, kpi.name),
    years.map((year) => {
      const era = eraOf(year.label);
      if (year.year === baseYear) return h('th', {}, `${era}（基準）`);
      if (year.year === targetYear) return h('th', {}, `${era}（目標）`);
      return h('th', {}, era);
    }),
  );
  const body = rows.flatMap((row) => {
    const byYear = Object.fromEntries((row.points || []).map((p) => [p.fiscalYear.year, p]));
    const revisions = row.target?.revisions || [];
    const name = rowLabel(kpi, row);
    const cells = years.map((year) => {
      if (year.year === baseYear) return h('td', { class: 'num' }, formatValue(valueOf(row.baseline), kpi));
      if (year.year === targetYear) {
        return h(
          'td',
          { class: 'num' },
          formatValue(valueOf(row.target), kpi),
          revisions.length
            ? h('span', { class: 'revised' }, `（見直し前${formatValue(valueOf(revisions[0]), kpi)}）`)
            : null,
        );
      }
      return h('td', { class: 'num' }, formatValue(byYear[year.year]?.value, kpi));
    });
    const rates = years.map((year) => {
      const point = byYear[year.year];
      if (year.year === baseYear || year.year === targetYear || !point || !point.rateDisplay) {
        return h('td', {});
      }
      return h(
        'td',
        {
          class: `rate ${STATUS_CLASS[point.status] || ''}`,
          dataset: { kpi: kpi.id, region: row.regionId, year: String(year.year) },
          title: point.status === 'PROGRESS_STATUS_LAGGING'
            ? `ペースを下回っています（期待 ${point.expectedRateDisplay}、差 ${point.paceGapDisplay}）`
            : undefined,
        },
        point.rateDisplay,
      );
    });
    return [
      h(
        'tr',
        { class: 'values' },
        h('td', { class: 'region', rowspan: 2, dataset: { depth: String(row.depth || 0) } }, name),
        cells,
      ),
      h('tr', { class: 'rates' }, rates),
    ];
  });
  return h('table', { class: 'kpi-table', dataset: { kpi: kpi.id } }, head, body);
}

// A table row's label as the document prints it: the cooperation area as
// 連携地域, a 振興局 as 上川地域, a 市町村 (or a prefecture) by its name; the
// rows below the area's direct children are indented by their depth (CSS).
function rowLabel(kpi, row) {
  const kind = (kpi.regionKinds || {})[row.regionId];
  if (row.regionId === kpi.areaId) {
    return !kind || kind === 'REGION_KIND_COOPERATION_AREA' ? '連携地域' : row.regionName;
  }
  if (kind === 'REGION_KIND_MUNICIPALITY') return row.regionName;
  return `${row.regionName}地域`;
}

async function projectView(projectId, params) {
  const year = Number(params.get('year')) || currentFiscalYear();
  const municipalities = params.get('municipalities') === '1';
  const [{ project }, answer] = await Promise.all([
    api(`/v1/projects/${encodeURIComponent(projectId)}`),
    api(
      `/v1/projects/${encodeURIComponent(projectId)}/kpi-table?as_of=${year}` +
        (municipalities ? '&with_municipalities=true' : ''),
    ),
  ]);
  const picker = h(
    'form',
    {
      class: 'year-picker',
      onsubmit: (event) => {
        event.preventDefault();
        const more = event.target.municipalities.checked ? '&municipalities=1' : '';
        location.hash = `#/projects/${encodeURIComponent(projectId)}?year=${event.target.year.value}${more}`;
      },
    },
    h('label', {}, '年度 ', h('input', { name: 'year', type: 'number', min: 1989, max: 2100, value: year })),
    ' ',
    h('label', {}, h('input', { name: 'municipalities', type: 'checkbox', checked: municipalities }), ' 市町村も表示'),
    ' ',
    h('button', { type: 'submit' }, '表示'),
    h('span', { class: 'muted' }, `　${answer.asOf?.label || year} 時点`),
  );
  const tables = (answer.tables || []).map((table) => [
    h('h2', {}, '○', h('a', { href: `#/kpis/${encodeURIComponent(table.kpi.id)}` }, table.kpi.name)),
    kpiTable(table),
    h('div', { class: 'charts' }, (table.rows || []).map((row) => chart(table, row))),
  ]);
  return [
    h('p', { class: 'muted' }, 'プロジェクト推進管理表'),
    h('h1', {}, project.title),
    picker,
    downloads([
      ['推進管理表（CSV）', `/v1/projects/${encodeURIComponent(projectId)}/kpi-table.csv?year=${year}`, `${projectId}-${year}.csv`],
      ['推進管理表（CSV, Shift_JIS）', `/v1/projects/${encodeURIComponent(projectId)}/kpi-table.csv?year=${year}&encoding=cp932`, `${projectId}-${year}-sjis.csv`],
      ['報告書（HTML）', `/v1/projects/${encodeURIComponent(projectId)}/report?year=${year}`, `${projectId}-${year}.html`],
      ['報告書（Markdown）', `/v1/projects/${encodeURIComponent(projectId)}/report?year=${year}&format=markdown`, `${projectId}-${year}.md`],
    ]),
    tables.length ? tables : h('p', { class: 'muted' }, 'KPI がありません。'),
  ];
}

function recordForm(kpi, regions, onDone) {
  const status = h('div', {});
  const form = h(
    'form',
    {
      class: 'inline',
      id: 'record-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        status.replaceChildren();
        try {
          const answer = await api(`/v1/kpis/${encodeURIComponent(kpi.id)}/actuals`, {
            method: 'POST',
            body: {
              actual: {
                regionId: data.get('region'),
                fiscalYear: { year: Number(data.get('year')) },
                value: Number(data.get('value')),
              },
              reason: data.get('reason') || '',
            },
          });
          status.append(
            h('p', { class: 'ok' }, answer.corrected ? '訂正しました。' : '記録しました。'),
          );
          onDone();
        } catch (error) {
          status.append(showError(error));
        }
      },
    },
    h('label', {}, '地域', h('select', { name: 'region' }, regions.map((r) => h('option', { value: r.id }, r.name)))),
    h('label', {}, '年度', h('input', { name: 'year', type: 'number', min: 1989, max: 2100, required: true, value: currentFiscalYear() - 1 })),
    h('label', {}, `実績（${kpi.unit}）`, h('input', { name: 'value', type: 'number', step: 'any', required: true })),
    h('label', {}, '理由（訂正時）', h('input', { name: 'reason', type: 'text' })),
    h('button', { type: 'submit' }, '実績を記録'),
  );
  return [h('h2', {}, '実績の記録'), form, status];
}

function csvUpload(onDone) {
  const status = h('div', { id: 'csv-status' });
  const form = h(
    'form',
    {
      class: 'inline',
      id: 'csv-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const file = form.file.files[0];
        if (!file) return;
        status.replaceChildren(h('p', { class: 'muted' }, `${file.name} を送信中…`));
        try {
          const answer = await api(`/v1/actuals:importCsv?name=${encodeURIComponent(file.name)}`, {
            method: 'POST',
            body: await file.arrayBuffer(),
            contentType: 'text/csv',
          });
          const applied = answer.rowsApplied || 0;
          const skipped = answer.rowsAlreadyStored || 0;
          status.replaceChildren(
            h('p', { class: 'ok' }, `${file.name}（${answer.encoding}）: ${answer.rows || 0} 行、${applied} 行を取り込みました` +
              (skipped ? `（${skipped} 行は登録済み）` : '') + '。'),
          );
          onDone();
        } catch (error) {
          status.replaceChildren(
            error.body?.problems ? rowErrors(error.body.problems, error.message) : showError(error),
          );
        }
      },
    },
    h('label', {}, 'CSV（UTF-8 または Shift_JIS）', h('input', { name: 'file', type: 'file', accept: '.csv,text/csv' })),
    h('button', { type: 'submit' }, 'アップロード'),
  );
  return [h('h2', {}, 'CSV の取り込み'), form, status];
}

// The refused rows of an upload, by line and column; nothing was stored.
function rowErrors(problems, message) {
  return h(
    'div',
    { class: 'error', role: 'alert', id: 'csv-errors' },
    h('p', {}, `取り込めませんでした（${problems.length} 件）。何も保存されていません。`),
    h(
      'ul',
      { class: 'errors' },
      problems.map((p) =>
        h(
          'li',
          { dataset: { line: String(p.line || ''), column: p.column || '' } },
          `${p.line} 行目${p.column ? `・${p.column} 列` : ''}: ${p.message}`,
        ),
      ),
    ),
    h('p', { class: 'muted' }, message),
  );
}

// Fetches `path` with the token and saves it as `name` (a link cannot send
// the Authorization header).
async function download(path, name) {
  const headers = session.token ? { Authorization: `Bearer ${session.token}` } : {};
  const response = await fetch(path, { headers });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function downloads(links) {
  const status = h('span', {});
  return h(
    'p',
    { class: 'downloads' },
    'ダウンロード: ',
    links.map(([label, path, name]) => [
      h('button', {
        class: 'secondary',
        onclick: () => download(path, name).catch((error) => status.replaceChildren(showError(error))),
      }, label),
      ' ',
    ]),
    status,
  );
}

async function kpiView(kpiId, params) {
  const year = Number(params.get('year')) || currentFiscalYear();
  const { kpi } = await api(`/v1/kpis/${encodeURIComponent(kpiId)}`);
  const names = kpi.regionNames || {};
  const regions = (kpi.regionIds || []).map((id) => ({ id, name: names[id] || id }));
  const progress = await Promise.all(
    regions.map((r) =>
      api(`/v1/kpis/${encodeURIComponent(kpiId)}/progress?region_id=${encodeURIComponent(r.id)}&as_of=${year}`),
    ),
  );
  const reload = () => route();
  const regionTable = h(
    'table',
    { class: 'list' },
    h('tr', {}, ['地域', '基準', '目標', '最新の実績', '進捗率', '状況'].map((t) => h('th', {}, t))),
    progress.map((p, i) => {
      const latest = [...(p.points || [])].reverse().find((point) => point.value !== undefined);
      return h(
        'tr',
        {},
        h('td', {}, regions[i].name),
        h('td', { class: 'num' }, formatValue(valueOf(p.baseline), kpi), ' ', h('span', { class: 'muted' }, eraOf(p.baseline?.fiscalYear?.label))),
        h('td', { class: 'num' }, formatValue(valueOf(p.target), kpi), ' ', h('span', { class: 'muted' }, eraOf(p.target?.fiscalYear?.label))),
        h('td', { class: 'num' }, latest ? `${formatValue(latest.value, kpi)}（${eraOf(latest.fiscalYear.label)}）` : '—'),
        h('td', { class: 'num' }, latest?.rateDisplay || '—'),
        h('td', {}, latest?.status === 'PROGRESS_STATUS_LAGGING' ? h('span', { class: 'sev SEVERITY_WARNING' }, '遅れ') : latest?.status === 'PROGRESS_STATUS_ACHIEVED' ? '達成' : latest ? '順調' : '—'),
      );
    }),
  );

  const parts = [
    h('p', { class: 'muted' }, h('a', { href: `#/projects/${encodeURIComponent(kpi.projectId)}?year=${year}` }, '← 推進管理表')),
    h('h1', {}, kpi.name),
    downloads([['実績・基準・目標（CSV）', `/v1/kpis/${encodeURIComponent(kpiId)}/data.csv`, `${kpiId}.csv`]]),
    h('h2', {}, '地域'),
    regionTable,
  ];

  // How the area's figure is computed from its children.
  try {
    const { aggregate } = await api(
      `/v1/kpis/${encodeURIComponent(kpiId)}/aggregates/${encodeURIComponent(kpi.areaId)}?fiscal_year=${year}`,
    );
    const rule = { AGGREGATION_RULE_SUM: '合計', AGGREGATION_RULE_RATIO: '比率（分子・分母の合計）', AGGREGATION_RULE_REPORTED: '報告値' }[aggregate.rule] || aggregate.rule;
    parts.push(
      h('h2', {}, `${names[kpi.areaId] || kpi.areaId}の集計（${aggregate.fiscalYear?.label || year}）`),
      h('p', {}, `方法: ${rule}　値: ${aggregate.value !== undefined ? formatValue(aggregate.value, kpi) : '—'}${aggregate.complete ? '' : '（未確定）'}`),
      h(
        'table',
        { class: 'list', id: 'aggregate' },
        h('tr', {}, ['地域', '値', '分子', '分母', '重み'].map((t) => h('th', {}, t))),
        (aggregate.components || []).map((c) =>
          h('tr', {}, h('td', {}, names[c.regionId] || c.regionId), h('td', { class: 'num' }, formatValue(c.value, kpi) || '—'), h('td', { class: 'num' }, c.numerator ?? ''), h('td', { class: 'num' }, c.denominator ?? ''), h('td', { class: 'num' }, (c.weight ?? 0).toFixed(3))),
        ),
      ),
      aggregate.missingRegionIds?.length
        ? h('p', { class: 'muted' }, `未報告: ${aggregate.missingRegionIds.map((id) => names[id] || id).join('、')}`)
        : null,
      (aggregate.warnings || []).map((w) => h('p', { class: 'muted' }, w)),
    );
  } catch (error) {
    parts.push(showError(error));
  }

  // Every change: who, when, old → new.
  const histories = await Promise.all(
    regions.map((r) => api(`/v1/kpis/${encodeURIComponent(kpiId)}/history?region_id=${encodeURIComponent(r.id)}&page_size=100`)),
  );
  const changes = histories
    .flatMap((history) => history.changes || [])
    .sort((a, b) => Number(b.sequence) - Number(a.sequence));
  const kinds = {
    CHANGE_KIND_KPI_CREATED: 'KPI 作成',
    CHANGE_KIND_BASELINE_SET: '基準',
    CHANGE_KIND_TARGET_REVISED: '目標',
    CHANGE_KIND_ACTUAL_RECORDED: '実績',
    CHANGE_KIND_ACTUAL_CORRECTED: '実績の訂正',
  };
  parts.push(
    h('h2', {}, '変更履歴'),
    h(
      'table',
      { class: 'list', id: 'history' },
      h('tr', {}, ['日時', '地域', '年度', '種類', '変更前 → 変更後', '誰が', '理由'].map((t) => h('th', {}, t))),
      changes.map((c) =>
        h(
          'tr',
          {},
          h('td', {}, new Date(c.changeTime).toLocaleString('ja-JP')),
          h('td', {}, names[c.regionId] || c.regionId),
          h('td', {}, eraOf(c.fiscalYear?.label)),
          h('td', {}, kinds[c.kind] || c.kind),
          h('td', { class: 'num' }, c.newValue === undefined ? '' : `${c.oldValue !== undefined ? formatValue(c.oldValue, kpi) : '—'} → ${formatValue(c.newValue, kpi)}`),
          h('td', {}, [c.author, c.principal && c.principal !== c.author ? `(${c.principal})` : ''].filter(Boolean).join(' ') || '—'),
          h('td', {}, c.reason || ''),
        ),
      ),
    ),
  );
  if (may('KpiService.RecordActual')) parts.push(recordForm(kpi, regions, reload));
  if (may('KpiService.ImportActuals')) parts.push(csvUpload(reload));
  return parts;
}

const SEVERITY = { SEVERITY_CRITICAL: '重大', SEVERITY_WARNING: '警告', SEVERITY_INFO: '情報' };
const RULE = {
  RULE_KIND_LAGGING: '遅れ',
  RULE_KIND_BELOW_THRESHOLD: '基準未満',
  RULE_KIND_DECLINING: '低下',
  RULE_KIND_STAGNANT: '停滞',
  RULE_KIND_MISSING: '未報告',
  RULE_KIND_ACHIEVED: '達成',
};

let alertStream = null;

let regionNames = null;

// Region id → name, read once.
async function regionName(id) {
  if (!regionNames) {
    const { regions = [] } = await api('/v1/regions?page_size=1000');
    regionNames = Object.fromEntries(regions.map((r) => [r.id, r.name]));
  }
  return regionNames[id] || id;
}

async function alertsView() {
  await regionName('');
  const list = h('tbody', { id: 'alerts' });
  const status = h('div', {});
  const render = async () => {
    const { alerts = [] } = await api('/v1/alerts?include_resolved=true&page_size=500');
    list.replaceChildren(
      ...alerts.map((alert) => {
        const acknowledged = alert.acknowledgement?.principal || alert.acknowledgement?.author;
        const actions = [];
        if (!acknowledged && alert.state !== 'ALERT_STATE_RESOLVED' && may('NotificationService.AcknowledgeAlert')) {
          actions.push(
            h('button', {
              class: 'ack',
              onclick: async () => {
                try {
                  await api(`/v1/alerts/${encodeURIComponent(alert.fingerprint)}:acknowledge`, {
                    method: 'POST',
                    body: { author: session.claims?.name || session.claims?.sub || '', comment: 'ウェブで確認' },
                  });
                  await render();
                } catch (error) {
                  status.replaceChildren(showError(error));
                }
              },
            }, '確認'),
          );
        }
        if (may('NotificationService.CreateSilence') && !alert.silenced) {
          actions.push(
            h('button', {
              class: 'secondary',
              onclick: async () => {
                const end = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
                try {
                  await api('/v1/silences', {
                    method: 'POST',
                    body: {
                      matchers: [
                        { field: 'MATCHER_FIELD_KPI', value: alert.kpiId },
                        { field: 'MATCHER_FIELD_REGION', value: alert.regionId },
                      ],
                      endTime: end,
                      author: session.claims?.sub || '',
                      comment: 'ウェブから 7 日間',
                    },
                  });
                  await render();
                } catch (error) {
                  status.replaceChildren(showError(error));
                }
              },
            }, '7日間ミュート'),
          );
        }
        return h(
          'tr',
          { class: `alert-row ${alert.state === 'ALERT_STATE_RESOLVED' ? 'resolved' : ''}`, dataset: { fingerprint: alert.fingerprint } },
          h('td', { class: `sev ${alert.severity}` }, SEVERITY[alert.severity] || alert.severity),
          h('td', {}, RULE[alert.rule] || alert.rule),
          h('td', {}, h('a', { href: `#/kpis/${encodeURIComponent(alert.kpiId)}` }, alert.kpiId)),
          h('td', {}, regionNames[alert.regionId] || alert.regionId),
          h('td', {}, alert.summary),
          h('td', { class: 'state' }, alert.state === 'ALERT_STATE_RESOLVED' ? '解消' : alert.silenced ? 'ミュート中' : '発生中'),
          h('td', { class: 'acknowledged' }, acknowledged ? `確認済み（${acknowledged}）` : ''),
          h('td', {}, actions),
        );
      }),
    );
  };
  await render();
  // Live: every event re-reads the list (new, resolved, acknowledged).
  alertStream?.abort();
  alertStream = new AbortController();
  let pending = null;
  follow('/v1/alerts:subscribe', () => {
    clearTimeout(pending);
    pending = setTimeout(() => render().catch((error) => status.replaceChildren(showError(error))), 50);
  }, alertStream.signal);
  return [
    h('h1', {}, 'アラート'),
    h('p', { class: 'muted' }, '新しいアラート、解消、確認はこのページに自動で反映されます。'),
    status,
    h(
      'table',
      { class: 'list' },
      h('thead', {}, h('tr', {}, ['重大度', '規則', 'KPI', '地域', '内容', '状態', '確認', ''].map((t) => h('th', {}, t)))),
      list,
    ),
  ];
}

function signInView() {
  const form = h(
    'form',
    {
      id: 'signin',
      onsubmit: (event) => {
        event.preventDefault();
        signIn(form.token.value);
        location.hash = '#/';
      },
    },
    h('p', {}, 'トークン（JWT）を貼り付けてサインインします。このタブを閉じると消えます。'),
    h('textarea', { name: 'token', rows: 5, cols: 80, required: true }),
    h('p', {}, h('button', { type: 'submit' }, 'サインイン')),
  );
  return [h('h1', {}, 'サインイン'), form];
}

function renderWho() {
  if (!session.claims) {
    who.replaceChildren(h('a', { href: '#/signin' }, 'サインイン'));
    return;
  }
  const roles = { viewer: '閲覧', officer: '担当者', planner: '企画', operator: '運用' };
  who.replaceChildren(
    `${session.claims.name || session.claims.sub}（${(session.claims.roles || []).map((r) => roles[r] || r).join('・')}）`,
    h('button', { class: 'secondary', onclick: () => { signOut(); location.hash = '#/signin'; } }, 'サインアウト'),
  );
}

async function route() {
  const [path, query = ''] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query);
  const parts = (path || '/').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'alerts') alertStream?.abort();
  renderWho();
  let view;
  try {
    if (!session.token && parts[0] !== 'signin') view = signInView();
    else if (parts[0] === 'signin') view = signInView();
    else if (parts[0] === 'projects' && parts[1]) view = await projectView(parts[1], params);
    else if (parts[0] === 'kpis' && parts[1]) view = await kpiView(parts[1], params);
    else if (parts[0] === 'alerts') view = await alertsView();
    else view = await projectsView();
  } catch (error) {
    view = [showError(error), error.status === 401 ? h('p', {}, h('a', { href: '#/signin' }, 'サインインし直す')) : null];
  }
  main.replaceChildren(...[view].flat(Infinity).filter(Boolean));
  // Milliseconds from the navigation to the first view shown (bench.sh reads it).
  document.body.dataset.firstRenderMs ??= performance.now().toFixed(1);
  document.body.dataset.ready = location.hash || '#/';
}

async function start() {
  try {
    const document_ = await (await fetch('/openapi.json')).json();
    for (const operations of Object.values(document_.paths)) {
      for (const operation of Object.values(operations)) {
        session.access[operation.operationId] = operation['x-suishin-roles'] || [];
      }
    }
  } catch {
    session.access = {};
  }
  if (session.token) session.claims = decodeClaims(session.token);
  window.addEventListener('hashchange', route);
  await route();
}

start();
