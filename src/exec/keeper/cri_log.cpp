// Formatting and splitting of CRI log lines.

#include "exec/keeper/cri_log.hpp"

#include <time.h>

#include <cstdio>

namespace ringcri::exec::keeper {

std::string rfc3339_nano(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t frac = unix_ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                        utc.tm_sec, static_cast<long long>(frac));
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::int64_t now_unix_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void cri_log_stream::emit(std::string_view timestamp, char tag, std::string_view content,
                          std::string& out) const {
  out.append(timestamp);
  out.push_back(' ');
  out.append(name_);
  out.push_back(' ');
  out.push_back(tag);
  out.push_back(' ');
  out.append(content);
  out.push_back('\n');
}

void cri_log_stream::feed(std::string_view data, std::string_view timestamp, std::string& out) {
  while (!data.empty()) {
    std::size_t nl = data.find('\n');
    std::string_view piece = nl == std::string_view::npos ? data : data.substr(0, nl);

    if (!pending_.empty()) {
      // Complete the held tail first, up to one line's worth.
      std::size_t room = cri_log_max_line - pending_.size();
      if (piece.size() <= room) {
        pending_.append(piece);
        if (nl == std::string_view::npos) return;
        emit(timestamp, 'F', pending_, out);
        pending_.clear();
        pending_.shrink_to_fit();
        data.remove_prefix(nl + 1);
        continue;
      }
      pending_.append(piece.substr(0, room));
      piece.remove_prefix(room);
      emit(timestamp, 'P', pending_, out);
      pending_.clear();
    }

    // No copy here: the line goes straight from the read buffer.
    while (piece.size() > cri_log_max_line) {
      emit(timestamp, 'P', piece.substr(0, cri_log_max_line), out);
      piece.remove_prefix(cri_log_max_line);
    }
    if (nl == std::string_view::npos) {
      pending_.assign(piece);
      return;
    }
    emit(timestamp, 'F', piece, out);
    data.remove_prefix(nl + 1);
  }
  if (pending_.empty()) pending_.shrink_to_fit();
}

void cri_log_stream::finish(std::string_view timestamp, std::string& out) {
  if (pending_.empty()) return;
  emit(timestamp, 'P', pending_, out);
  pending_.clear();
  pending_.shrink_to_fit();
}

}  // namespace ringcri::exec::keeper
