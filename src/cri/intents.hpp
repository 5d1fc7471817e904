#pragma once
// Intents: what a RunPodSandbox or a CreateContainer is about to make,
// noted before it makes what nothing could find again after a crash (a
// pod's cgroup under the kubelet's parent, its CNI attachment and IP
// reservation, its held namespaces; a container's cgroup and dirs). The
// note is the record as it will be, in a kind of its own that the CRI
// never sees, dropped once the real record is saved.
//
// A daemon killed between the two leaves the note: at the next start,
// sweep_intents() undoes what each note without its record describes
// (CNI DEL with the noted network, namespaces released, cgroup and dirs
// removed, the keeper's process gone), so the RPC happened not at all.
//
// The notes are records like the others, entries in the record journal
// (group-committed with whatever else is written at that moment): no file
// is made for a note, and one dropped before the next checkpoint never
// reaches a file at all. (A file of its own per note, temp, rename and
// unlink, cost a new inode each time: dear on a node that makes and
// deletes many.)

#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

inline constexpr const char* pod_intents_kind = "pod_intents";
inline constexpr const char* container_intents_kind = "container_intents";

reactor::task<result<void>> note_intent(context& ctx, const records::pod_sandbox& pod);
reactor::task<result<void>> note_intent(context& ctx, const records::container& c);
reactor::task<void> drop_pod_intent(context& ctx, const std::string& id);
reactor::task<void> drop_container_intent(context& ctx, const std::string& id);

// At start, after restore() and reattach(): undoes every intent whose
// record is missing, drops the rest.
reactor::task<void> sweep_intents(context& ctx);

}  // namespace ringcri::cri
