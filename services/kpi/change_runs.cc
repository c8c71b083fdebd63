#include "services/kpi/change_runs.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace suishin::kpi {
namespace {

void AppendVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Reads a varint at `*pos`; false when the data ends inside it or it is
// longer than 10 bytes.
bool ReadVarint(absl::string_view data, size_t* pos, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *pos < data.size(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(data[(*pos)++]);
    *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

constexpr uint64_t kHasTime = 1;
constexpr uint64_t kHasKind = 2;
constexpr uint64_t kHasAuthor = 4;
constexpr uint64_t kHasReason = 8;
constexpr uint64_t kHasRegion = 16;
constexpr uint64_t kHasPrincipal = 32;  // changes stored before principals have none

}  // namespace

void RunContext::Remember(const v1::Change& change) {
  valid = true;
  time = change.change_time();
  kind = change.kind();
  if (author != change.author()) author = change.author();
  if (reason != change.reason()) reason = change.reason();
  if (region != change.region_id()) region = change.region_id();
  if (principal != change.principal()) principal = change.principal();
}

void EncodeInto(v1::Change& change, RunContext& context, std::string* data) {
  uint64_t flags = kHasTime | kHasKind | kHasAuthor | kHasReason | kHasRegion | kHasPrincipal;
  google::protobuf::Timestamp* time = nullptr;
  const v1::ChangeKind kind = change.kind();
  std::string author, reason, region, principal;
  if (context.valid) {
    if (change.change_time().seconds() == context.time.seconds() &&
        change.change_time().nanos() == context.time.nanos()) {
      flags &= ~kHasTime;
      time = change.release_change_time();
    }
    if (kind == context.kind) {
      flags &= ~kHasKind;
      change.clear_kind();
    }
    if (change.author() == context.author) {
      flags &= ~kHasAuthor;
      change.mutable_author()->swap(author);
    }
    if (change.reason() == context.reason) {
      flags &= ~kHasReason;
      change.mutable_reason()->swap(reason);
    }
    if (change.region_id() == context.region) {
      flags &= ~kHasRegion;
      change.mutable_region_id()->swap(region);
    }
    if (change.principal() == context.principal) {
      flags &= ~kHasPrincipal;
      change.mutable_principal()->swap(principal);
    }
  }
  const size_t size = change.ByteSizeLong();
  AppendVarint(data, flags);
  AppendVarint(data, size);
  const size_t at = data->size();
  data->resize(at + size);
  change.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(&(*data)[at]));
  if (time != nullptr) change.set_allocated_change_time(time);
  if ((flags & kHasKind) == 0) change.set_kind(kind);
  if ((flags & kHasAuthor) == 0) change.mutable_author()->swap(author);
  if ((flags & kHasReason) == 0) change.mutable_reason()->swap(reason);
  if ((flags & kHasRegion) == 0) change.mutable_region_id()->swap(region);
  if ((flags & kHasPrincipal) == 0) change.mutable_principal()->swap(principal);
  context.Remember(change);
}

absl::Status DecodeRun(int64_t first_sequence, int64_t last_sequence, absl::string_view kpi_id,
                       absl::string_view data, const std::function<bool(v1::Change&)>& each) {
  size_t pos = 0;
  v1::Change change;
  RunContext context;
  for (int64_t sequence = first_sequence; sequence <= last_sequence; ++sequence) {
    uint64_t flags = 0;
    uint64_t size = 0;
    if (!ReadVarint(data, &pos, &flags) || !ReadVarint(data, &pos, &size) ||
        size > data.size() - pos ||
        !change.ParseFromArray(data.data() + pos, static_cast<int>(size)) ||
        (!context.valid && (flags & 31) != 31)) {
      return absl::DataLossError(
          absl::StrCat("change_runs row ", first_sequence, " does not parse at ", sequence));
    }
    pos += size;
    if ((flags & kHasTime) == 0) *change.mutable_change_time() = context.time;
    if ((flags & kHasKind) == 0) change.set_kind(context.kind);
    if ((flags & kHasAuthor) == 0) change.set_author(context.author);
    if ((flags & kHasReason) == 0) change.set_reason(context.reason);
    if ((flags & kHasRegion) == 0) change.set_region_id(context.region);
    if ((flags & kHasPrincipal) == 0) change.set_principal(context.principal);
    context.Remember(change);
    change.set_sequence(sequence);
    change.set_kpi_id(kpi_id.data(), kpi_id.size());
    if (!each(change)) return absl::OkStatus();
  }
  return absl::OkStatus();
}

void RunBuilder::Add(v1::Change& change, int64_t sequence) {
  if (count == 0) {
    kpi = change.kpi_id();
    first = sequence;
    data.clear();
    context = RunContext();
  }
  // The KPI is the row's, the sequence its place in the run: moved out (no
  // copy) while the rest is encoded, then put back.
  scratch_.clear();
  change.mutable_kpi_id()->swap(scratch_);
  EncodeInto(change, context, &data);
  change.mutable_kpi_id()->swap(scratch_);
  last = sequence;
  ++count;
}

ChangePageBuilder::ChangePageBuilder(const ChangeQuery& query)
    : query_(query), from_(std::max<int64_t>(query.from_sequence, 1)) {}

absl::StatusOr<bool> ChangePageBuilder::AddRun(int64_t first, int64_t last,
                                               absl::string_view kpi_id, absl::string_view data) {
  if (last < from_) return !full_;
  absl::Status decoded = DecodeRun(first, last, kpi_id, data, [&](v1::Change& change) {
    if (change.sequence() < from_) return true;
    page_.scanned_through = change.sequence();
    ++examined_;
    if ((query_.region_id.empty() || change.region_id() == query_.region_id) &&
        (query_.fiscal_year == 0 || change.fiscal_year().year() == query_.fiscal_year)) {
      page_.changes.push_back(change);
    }
    full_ =
        static_cast<int>(page_.changes.size()) >= query_.limit || examined_ >= query_.max_examined;
    return !full_;
  });
  if (!decoded.ok()) return decoded;
  return !full_;
}

ChangePage ChangePageBuilder::Finish(bool at_end, int64_t log_last) {
  page_.at_end = at_end;
  if (at_end) {
    // Everything up to the log's end was looked at, whatever the filter.
    page_.scanned_through = std::max(page_.scanned_through, std::max(log_last, from_ - 1));
  }
  return std::move(page_);
}

}  // namespace suishin::kpi
