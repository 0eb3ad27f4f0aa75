#include "proxy/http/date.h"

#include <time.h>

namespace switchyard::http {
namespace {

constexpr std::string_view kWeekdays[7] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01 was a Thursday
constexpr std::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 -> proleptic Gregorian date (Howard Hinnant's civil_from_days).
CivilDate civilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_index = (5 * day_of_year + 2) / 153;  // March = 0
  const unsigned day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const unsigned month = month_index < 10 ? month_index + 3 : month_index - 9;
  const int64_t year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

void putTwoDigits(char* out, unsigned value) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

void putText(char* out, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) out[i] = text[i];
}

}  // namespace

std::string_view formatHttpDate(int64_t unix_seconds, std::span<char, kHttpDateLength> out) {
  if (unix_seconds < 0) unix_seconds = 0;
  constexpr int64_t kLastSecondOf9999 = 253402300799;
  if (unix_seconds > kLastSecondOf9999) unix_seconds = kLastSecondOf9999;
  const int64_t days = unix_seconds / 86400;
  const unsigned second_of_day = static_cast<unsigned>(unix_seconds % 86400);
  const CivilDate date = civilFromDays(days);

  // "Sun, 06 Nov 1994 08:49:37 GMT"
  //  0    5  8   12   17 20 23 26
  char* p = out.data();
  putText(p, kWeekdays[days % 7]);
  putText(p + 3, ", ");
  putTwoDigits(p + 5, date.day);
  p[7] = ' ';
  putText(p + 8, kMonths[date.month - 1]);
  p[11] = ' ';
  const unsigned year = static_cast<unsigned>(date.year);
  putTwoDigits(p + 12, year / 100);
  putTwoDigits(p + 14, year % 100);
  p[16] = ' ';
  putTwoDigits(p + 17, second_of_day / 3600);
  p[19] = ':';
  putTwoDigits(p + 20, second_of_day / 60 % 60);
  p[22] = ':';
  putTwoDigits(p + 23, second_of_day % 60);
  putText(p + 25, " GMT");
  return {out.data(), kHttpDateLength};
}

HttpDate currentHttpDate() {
  // Trivially constructible, so the thread_local needs no dynamic initialisation.
  struct Cache {
    int64_t second;
    HttpDate text;
  };
  thread_local Cache cache{-1, {}};

  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);  // vDSO, no system call; 1-4 ms resolution is plenty
  if (now.tv_sec != cache.second) {
    formatHttpDate(now.tv_sec, cache.text);
    cache.second = now.tv_sec;
  }
  return cache.text;
}

}  // namespace switchyard::http
