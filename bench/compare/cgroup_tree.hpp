#pragma once
// Removing cgroup directories the bench (or a runtime it ran) made.

#include <filesystem>
#include <string>
#include <vector>

namespace ringcri::bench {

// rmdir of every cgroup under `root`, deepest first (one with processes
// stays); the ones left. `root` itself stays.
std::vector<std::string> remove_cgroups_under(const std::filesystem::path& root);

// The same, then `root` itself.
void remove_cgroup_tree(const std::filesystem::path& root);

}  // namespace ringcri::bench
