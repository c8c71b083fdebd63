// The seams every service's test harness takes the same way: the clock that
// stamps writes and decides what is due (common/clock.h) and the shared cache
// (common/shared_cache.h, Redis in production). A null seam leaves the
// harness's own default: the real clock or the harness's fixed one, and a
// RedisClient of the redis-server the test started (or none).
//
// Example:
//   FixedClock clock(SuiteNow());
//   UnavailableCache down;
//   auto kpi = KpiServer::Start(db, plan, redis_url, true, {}, {&clock, &down});
#ifndef SUISHIN_TESTS_SUPPORT_SEAMS_H_
#define SUISHIN_TESTS_SUPPORT_SEAMS_H_

#include "common/clock.h"
#include "common/shared_cache.h"

namespace suishin::testing {

struct Seams {
  const Clock* clock = nullptr;
  SharedCache* cache = nullptr;
};

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_SEAMS_H_
