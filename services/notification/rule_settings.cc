#include "services/notification/rule_settings.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "common/page_token.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/book_util.h"
#include "services/notification/rules.h"

namespace suishin::notification {

void RuleSettings::SetRule(const v1::SetRuleRequest& request, v1::SetRuleResponse* response,
                           Done done) {
  auto outcome = std::make_shared<WriteOutcome>();
  auto prepare = [&]() -> absl::StatusOr<NotificationStore::Body> {
    v1::Rule rule = request.rule();
    rule.DiscardUnknownFields();
    RETURN_IF_ERROR(ValidateRule(rule));
    if (!rule.kpi_id().empty()) RETURN_IF_ERROR(ValidateId("rule.kpi_id", rule.kpi_id()));
    outcome->rules_changed = rule.kpi_id();
    return NotificationStore::Body([rule = std::move(rule), limit = options_.max_rule_overrides,
                                    response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<v1::Rule> stored, tx.Rules());
      const size_t before = stored.size();
      stored.erase(std::remove_if(stored.begin(), stored.end(),
                                  [&](const v1::Rule& other) {
                                    return other.kind() == rule.kind() &&
                                           other.kpi_id() == rule.kpi_id();
                                  }),
                   stored.end());
      if (!rule.kpi_id().empty() && stored.size() == before) {  // a new override
        const int64_t overrides = std::count_if(stored.begin(), stored.end(),
                                                [](const auto& r) { return !r.kpi_id().empty(); });
        if (overrides >= limit) {
          return CountError("rule.kpi_id", overrides, "per-KPI rule overrides are stored", limit,
                            "--max_rule_overrides");
        }
      }
      stored.push_back(rule);
      // An override is checked as it will apply: merged with what it overlays.
      RETURN_IF_ERROR(ValidateRule(RuleBook(std::move(stored)).For(rule.kind(), rule.kpi_id())));
      RETURN_IF_ERROR(tx.PutRule(rule));
      *response->mutable_rule() = rule;
      return absl::OkStatus();
    });
  };
  writer_->Submit(prepare(), outcome, std::move(done));
}

absl::Status RuleSettings::ListRules(const v1::ListRulesRequest& request,
                                     v1::ListRulesResponse* response) {
  if (!request.kpi_id().empty()) RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t offset, DecodePageToken("page_token", request.page_token()));
  std::vector<v1::Rule> stored;
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(stored, tx.Rules());
    return absl::OkStatus();
  }));
  // The effective rules, in RuleKind order: the page token carries a position.
  std::vector<v1::Rule> rules = RuleBook(std::move(stored)).All(request.kpi_id());
  const size_t begin = std::min(static_cast<size_t>(offset), rules.size());
  const size_t end = std::min(rules.size(), begin + page_size);
  for (size_t i = begin; i < end; ++i) *response->add_rules() = std::move(rules[i]);
  if (end < rules.size()) response->set_next_page_token(EncodePageToken(end));
  return absl::OkStatus();
}

}  // namespace suishin::notification
