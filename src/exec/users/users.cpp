#include "exec/users/users.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "exec/users/rootfs_files.hpp"

namespace ringcri::exec {

namespace {

struct passwd_entry {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

struct group_entry {
  std::string name;
  std::uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  for (;;) {
    std::size_t j = s.find(sep, i);
    if (j == std::string_view::npos) {
      out.push_back(s.substr(i));
      return out;
    }
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Only plain decimal ids: "+1" or "-1" are names as far as we are concerned,
// and an id past 32 bits is no id.
std::optional<std::uint32_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

// Lines of the form name:password:uid:gid:gecos:home:shell. Blank lines,
// comments and lines whose ids do not parse are skipped rather than read as
// uid 0: a garbled line must never make someone root.
std::vector<passwd_entry> parse_passwd(std::string_view text) {
  std::vector<passwd_entry> out;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto f = split(line, ':');
    if (f.size() < 4) continue;
    auto uid = parse_id(trim(f[2]));
    auto gid = parse_id(trim(f[3]));
    if (!uid || !gid) continue;
    out.push_back({std::string(f[0]), *uid, *gid});
  }
  return out;
}

// Lines of the form name:password:gid:member,member.
std::vector<group_entry> parse_group(std::string_view text) {
  std::vector<group_entry> out;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto f = split(line, ':');
    if (f.size() < 3) continue;
    auto gid = parse_id(trim(f[2]));
    if (!gid) continue;
    group_entry g{std::string(f[0]), *gid, {}};
    if (f.size() > 3)
      for (std::string_view m : split(f[3], ',')) {
        m = trim(m);
        if (!m.empty()) g.members.emplace_back(m);
      }
    out.push_back(std::move(g));
  }
  return out;
}

// /etc/passwd and /etc/group of the image, each read at most once and only
// when a rule needs it. A missing file is an empty optional, not an error:
// whether that is fatal depends on what was asked.
class image_accounts {
 public:
  explicit image_accounts(const std::vector<std::string>& layers) : layers_(layers) {}

  result<const std::optional<std::vector<passwd_entry>>*> passwd() {
    if (!passwd_read_) {
      auto text = read_rootfs_file(layers_, "/etc/passwd");
      if (text)
        passwd_ = parse_passwd(*text);
      else if (text.error().kind() != error_kind::not_found)
        return tl::unexpected(std::move(text.error()).context("read the image's /etc/passwd"));
      passwd_read_ = true;
    }
    return &passwd_;
  }

  result<const std::optional<std::vector<group_entry>>*> group() {
    if (!group_read_) {
      auto text = read_rootfs_file(layers_, "/etc/group");
      if (text)
        group_ = parse_group(*text);
      else if (text.error().kind() != error_kind::not_found)
        return tl::unexpected(std::move(text.error()).context("read the image's /etc/group"));
      group_read_ = true;
    }
    return &group_;
  }

 private:
  const std::vector<std::string>& layers_;
  bool passwd_read_ = false;
  bool group_read_ = false;
  std::optional<std::vector<passwd_entry>> passwd_;
  std::optional<std::vector<group_entry>> group_;
};

result<std::uint32_t> uid_of_name(image_accounts& accounts, std::string_view name) {
  auto pw = accounts.passwd();
  if (!pw) return tl::unexpected(pw.error());
  if (!**pw)
    return fail(error_kind::invalid_argument,
                fmt::format("user \"{}\": the image has no /etc/passwd to look it up in", name));
  for (const auto& e : ***pw)
    if (e.name == name) return e.uid;
  return fail(error_kind::invalid_argument,
              fmt::format("user \"{}\" not found in the image's /etc/passwd", name));
}

result<std::uint32_t> gid_of_name(image_accounts& accounts, std::string_view name) {
  auto gr = accounts.group();
  if (!gr) return tl::unexpected(gr.error());
  if (!**gr)
    return fail(error_kind::invalid_argument,
                fmt::format("group \"{}\": the image has no /etc/group to look it up in", name));
  for (const auto& e : ***gr)
    if (e.name == name) return e.gid;
  return fail(error_kind::invalid_argument,
              fmt::format("group \"{}\" not found in the image's /etc/group", name));
}

// uid and primary gid from a user string "user[:group]" (containerd's
// oci.WithUser).
result<user_spec> user_and_group(image_accounts& accounts, std::string_view userstr) {
  user_spec out;
  if (userstr.empty()) return out;  // the runtime default: root
  auto parts = split(userstr, ':');
  if (parts.size() > 2)
    return fail(error_kind::invalid_argument, fmt::format("invalid user \"{}\"", userstr));

  if (parts.size() == 1) {
    if (auto uid = parse_id(parts[0])) {
      // A uid needs no passwd entry; when it has one, that entry gives the gid.
      out.uid = *uid;
      auto pw = accounts.passwd();
      if (!pw) return tl::unexpected(pw.error());
      if (**pw)
        for (const auto& e : ***pw)
          if (e.uid == *uid) {
            out.gid = e.gid;
            break;
          }
      return out;
    }
    auto pw = accounts.passwd();
    if (!pw) return tl::unexpected(pw.error());
    if (!**pw)
      return fail(
          error_kind::invalid_argument,
          fmt::format("user \"{}\": the image has no /etc/passwd to look it up in", parts[0]));
    for (const auto& e : ***pw)
      if (e.name == parts[0]) {
        out.uid = e.uid;
        out.gid = e.gid;
        return out;
      }
    return fail(error_kind::invalid_argument,
                fmt::format("user \"{}\" not found in the image's /etc/passwd", parts[0]));
  }

  // "user:group": each part numeric as is, or a name looked up.
  if (auto uid = parse_id(parts[0])) {
    out.uid = *uid;
  } else if (!parts[0].empty()) {
    auto uid_r = uid_of_name(accounts, parts[0]);
    if (!uid_r) return tl::unexpected(uid_r.error());
    out.uid = *uid_r;
  }
  if (auto gid = parse_id(parts[1])) {
    out.gid = *gid;
  } else if (!parts[1].empty()) {
    auto gid_r = gid_of_name(accounts, parts[1]);
    if (!gid_r) return tl::unexpected(gid_r.error());
    out.gid = *gid_r;
  }
  return out;
}

// The gids of the groups in /etc/group that list `user` (a name, or a uid
// whose passwd entry gives the name) as a member (containerd's
// WithAdditionalGIDs). No passwd entry or no /etc/group: none.
result<std::vector<std::uint32_t>> member_gids(image_accounts& accounts, std::string_view user) {
  std::string name(user);
  if (auto uid = parse_id(user)) {
    auto pw = accounts.passwd();
    if (!pw) return tl::unexpected(pw.error());
    if (!**pw) return std::vector<std::uint32_t>{};
    auto it = std::find_if((**pw)->begin(), (**pw)->end(),
                           [&](const passwd_entry& e) { return e.uid == *uid; });
    if (it == (**pw)->end()) return std::vector<std::uint32_t>{};
    name = it->name;
  }
  auto gr = accounts.group();
  if (!gr) return tl::unexpected(gr.error());
  std::vector<std::uint32_t> out;
  if (!**gr) return out;
  for (const auto& g : ***gr) {
    // The user's own group (same name) is its primary one, not a member group.
    if (g.name == name) continue;
    if (std::find(g.members.begin(), g.members.end(), name) != g.members.end())
      out.push_back(g.gid);
  }
  return out;
}

}  // namespace

result<user_spec> resolve_user(const std::vector<std::string>& layers_top_first,
                               std::string_view image_user, std::optional<std::uint32_t> run_as_uid,
                               std::optional<std::string> run_as_username,
                               std::optional<std::uint32_t> run_as_gid,
                               const std::vector<std::uint32_t>& supplemental_groups,
                               supplemental_groups_policy policy) {
  if (run_as_username && run_as_username->empty()) run_as_username.reset();

  // The user string: CRI's fields when any is set, else the image's.
  std::string cri_user;
  if (run_as_uid) cri_user = std::to_string(*run_as_uid);
  if (run_as_username) cri_user = *run_as_username;
  std::string userstr;
  if (!cri_user.empty()) {
    userstr = cri_user;
    if (run_as_gid) userstr += ":" + std::to_string(*run_as_gid);
  } else {
    if (run_as_gid)
      return fail(error_kind::invalid_argument,
                  fmt::format("run_as_group {} is specified without a user", *run_as_gid));
    userstr = std::string(image_user);
  }

  image_accounts accounts(layers_top_first);
  auto spec = user_and_group(accounts, userstr);
  if (!spec) return tl::unexpected(std::move(spec.error()).context("resolve the container's user"));

  std::vector<std::uint32_t> gids{spec->gid};
  if (policy == supplemental_groups_policy::merge) {
    // Memberships are looked up by the user part alone, "0" when none given.
    std::string user_part = cri_user;
    if (user_part.empty()) user_part = std::string(split(image_user, ':')[0]);
    if (user_part.empty()) user_part = "0";
    auto members = member_gids(accounts, user_part);
    if (!members)
      return tl::unexpected(std::move(members.error()).context("resolve the container's groups"));
    gids.insert(gids.end(), members->begin(), members->end());
  }
  gids.insert(gids.end(), supplemental_groups.begin(), supplemental_groups.end());
  std::sort(gids.begin(), gids.end());
  gids.erase(std::unique(gids.begin(), gids.end()), gids.end());
  spec->additional_gids = std::move(gids);
  return spec;
}

}  // namespace ringcri::exec
