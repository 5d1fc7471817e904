#pragma once
// Whether a stream is connected to the systemd journal. systemd sets
// JOURNAL_STREAM="<device>:<inode>" (decimal) for a service whose stdout
// or stderr goes to the journal (systemd.exec(5)); a program that finds
// its stderr to be that very stream may log through the journal's native
// protocol instead, keeping priorities and fields. A child that inherits
// the variable but writes elsewhere (a file, a pipe) does not match.

namespace ringcri::sys {

// `journal_stream`: JOURNAL_STREAM's value, or null when it is unset.
bool is_journal_stream(int fd, const char* journal_stream);

// The check for this process's stderr, with its own JOURNAL_STREAM.
bool stderr_is_journal_stream();

}  // namespace ringcri::sys
