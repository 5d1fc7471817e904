// The device program as compiled, run on a small interpreter of the eBPF
// instructions it uses: which requests each allow list lets through, that
// this matches v1's devices.allow (one rule must cover the type, numbers
// and every access asked; 'a' any type; -1 any number), and what is
// refused before anything reaches the kernel. The kernel's own verdicts
// are in device_program_kernel_test.cpp.

#include "exec/cgroups/device_program.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace cg = ringcri::exec::cgroups;
using ringcri::error_kind;

namespace {

struct request {
  char type;  // 'c' or 'b'
  std::uint32_t major;
  std::uint32_t minor;
  std::string access;  // of "rwm"
};

std::string describe(const request& r) {
  return std::string(1, r.type) + " " + std::to_string(r.major) + ":" + std::to_string(r.minor) +
         " " + r.access;
}

// Runs `program` on the context the kernel would build for `r`; the return
// value is the verdict (1 allow, 0 deny). Fails the test on an
// instruction it does not know, a backward or outside jump, a read of
// anything but the context, or running off the end: the kernel's verifier
// would refuse those too.
std::uint64_t run(const std::vector<bpf_insn>& program, const request& r) {
  bpf_cgroup_dev_ctx ctx{};
  std::uint32_t access = 0;
  for (char c : r.access)
    access |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  ctx.access_type = (access << 16) | (r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  ctx.major = r.major;
  ctx.minor = r.minor;

  std::uint64_t reg[11] = {};
  bool is_ctx[11] = {};
  is_ctx[BPF_REG_1] = true;
  std::size_t pc = 0;
  while (pc < program.size()) {
    const bpf_insn& i = program[pc++];
    const std::uint32_t imm = static_cast<std::uint32_t>(i.imm);
    const std::uint8_t code = i.code;
    if (code == (BPF_LDX | BPF_W | BPF_MEM)) {
      REQUIRE(is_ctx[i.src_reg]);
      REQUIRE(i.off >= 0);
      REQUIRE(static_cast<std::size_t>(i.off) + 4 <= sizeof(ctx));
      REQUIRE(i.off % 4 == 0);
      std::uint32_t v;
      std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
      reg[i.dst_reg] = v;
    } else if (code == (BPF_ALU | BPF_MOV | BPF_X)) {
      reg[i.dst_reg] = static_cast<std::uint32_t>(reg[i.src_reg]);
    } else if (code == (BPF_ALU | BPF_MOV | BPF_K)) {
      reg[i.dst_reg] = imm;
    } else if (code == (BPF_ALU | BPF_AND | BPF_K)) {
      reg[i.dst_reg] = static_cast<std::uint32_t>(reg[i.dst_reg]) & imm;
    } else if (code == (BPF_ALU | BPF_RSH | BPF_K)) {
      REQUIRE(imm < 32);
      reg[i.dst_reg] = static_cast<std::uint32_t>(reg[i.dst_reg]) >> imm;
    } else if (code == (BPF_JMP32 | BPF_JNE | BPF_K)) {
      REQUIRE(i.off >= 0);
      REQUIRE(pc + static_cast<std::size_t>(i.off) < program.size());
      if (static_cast<std::uint32_t>(reg[i.dst_reg]) != imm) pc += static_cast<std::size_t>(i.off);
    } else if (code == (BPF_JMP | BPF_EXIT)) {
      return reg[BPF_REG_0];
    } else {
      FAIL("instruction " << pc - 1 << ": unknown opcode " << int(code));
    }
    if (i.code != (BPF_JMP32 | BPF_JNE | BPF_K)) is_ctx[i.dst_reg] = false;
  }
  FAIL("ran off the end of the program");
  return 0;
}

std::vector<bpf_insn> compile(const std::vector<cg::device_rule>& rules) {
  auto program = cg::compile_device_program(rules);
  INFO((program ? "" : program.error().message()));
  REQUIRE(program);
  return std::move(*program);
}

bool allows(const std::vector<cg::device_rule>& rules, const request& r) {
  INFO(describe(r));
  const std::uint64_t verdict = run(compile(rules), r);
  REQUIRE((verdict == 0 || verdict == 1));
  return verdict == 1;
}

bool same_program(const std::vector<bpf_insn>& a, const std::vector<bpf_insn>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(bpf_insn)) == 0;
}

// A spread of requests: the defaults' devices and others, every access.
std::vector<request> sample_requests() {
  std::vector<request> out;
  for (char type : {'c', 'b'})
    for (auto [major, minor] : {std::pair<std::uint32_t, std::uint32_t>{1, 3},
                                {1, 4},
                                {1, 7},
                                {5, 2},
                                {136, 0},
                                {136, 99},
                                {8, 0},
                                {7, 0},
                                {254, 0},
                                {0, 0}})
      for (const char* access : {"r", "w", "m", "rw", "rm", "wm", "rwm"})
        out.push_back({type, major, minor, access});
  return out;
}

}  // namespace

TEST_CASE("an empty allow list denies every device") {
  for (const auto& r : sample_requests()) CHECK_FALSE(allows({}, r));
}

TEST_CASE("the default rules: mknod of anything, use of the standard nodes and ptys only") {
  const auto& rules = cg::default_device_rules();
  CHECK(allows(rules, {'c', 1, 3, "rw"}));     // null
  CHECK(allows(rules, {'c', 1, 7, "rwm"}));    // full
  CHECK(allows(rules, {'c', 5, 2, "rw"}));     // ptmx
  CHECK(allows(rules, {'c', 136, 42, "rw"}));  // a pty
  CHECK(allows(rules, {'c', 10, 200, "m"}));   // mknod of anything
  CHECK(allows(rules, {'b', 8, 0, "m"}));
  CHECK_FALSE(allows(rules, {'c', 10, 200, "r"}));  // tun: made, not opened
  CHECK_FALSE(allows(rules, {'b', 8, 0, "r"}));     // a disk
  CHECK_FALSE(allows(rules, {'b', 1, 3, "rw"}));    // a block device numbered like null
  CHECK_FALSE(allows(rules, {'c', 1, 4, "r"}));
}

TEST_CASE("one rule must cover every access asked, as in v1") {
  const std::vector<cg::device_rule> read_only = {{'c', 1, 3, "r"}};
  CHECK(allows(read_only, {'c', 1, 3, "r"}));
  CHECK_FALSE(allows(read_only, {'c', 1, 3, "w"}));
  CHECK_FALSE(allows(read_only, {'c', 1, 3, "rw"}));
  CHECK_FALSE(allows(read_only, {'c', 1, 3, "m"}));

  // Read from one rule and write from another do not add up to O_RDWR.
  const std::vector<cg::device_rule> split = {{'c', 1, 3, "r"}, {'c', 1, 3, "w"}};
  CHECK(allows(split, {'c', 1, 3, "r"}));
  CHECK(allows(split, {'c', 1, 3, "w"}));
  CHECK_FALSE(allows(split, {'c', 1, 3, "rw"}));

  // Letters in any order, repeated: still a set.
  CHECK(allows({{'c', 1, 3, "mwrr"}}, {'c', 1, 3, "rwm"}));
}

TEST_CASE("'a' is either type and -1 any number") {
  const std::vector<cg::device_rule> either = {{'a', 1, 3, "r"}};
  CHECK(allows(either, {'c', 1, 3, "r"}));
  CHECK(allows(either, {'b', 1, 3, "r"}));
  CHECK_FALSE(allows(either, {'c', 1, 4, "r"}));
  CHECK_FALSE(allows(either, {'c', 2, 3, "r"}));

  const std::vector<cg::device_rule> any_major = {{'c', -1, 5, "rw"}};
  CHECK(allows(any_major, {'c', 7, 5, "rw"}));
  CHECK(allows(any_major, {'c', 0, 5, "r"}));
  CHECK_FALSE(allows(any_major, {'c', 7, 6, "r"}));
  CHECK_FALSE(allows(any_major, {'b', 7, 5, "r"}));

  const std::vector<cg::device_rule> any_minor = {{'b', 7, -1, "r"}};
  CHECK(allows(any_minor, {'b', 7, 0, "r"}));
  CHECK(allows(any_minor, {'b', 7, 1000000, "r"}));
  CHECK_FALSE(allows(any_minor, {'b', 8, 0, "r"}));

  const std::vector<cg::device_rule> everything = {{'a', -1, -1, "rwm"}};
  for (const auto& r : sample_requests()) CHECK(allows(everything, r));
}

TEST_CASE("numbers above 2^31 compare as the kernel's unsigned fields") {
  const std::vector<cg::device_rule> high = {{'c', 4294967295, 2147483648, "r"}};
  CHECK(allows(high, {'c', 4294967295u, 2147483648u, "r"}));
  CHECK_FALSE(allows(high, {'c', 2147483647u, 2147483648u, "r"}));
  CHECK_FALSE(allows(high, {'c', 4294967295u, 0, "r"}));
}

TEST_CASE("the order of the rules does not change a verdict") {
  auto rules = cg::default_device_rules();
  rules.push_back({'b', 7, -1, "r"});
  rules.push_back({'a', 1, -1, "w"});
  auto reversed = rules;
  std::reverse(reversed.begin(), reversed.end());
  const auto forward_program = compile(rules);
  const auto backward_program = compile(reversed);
  for (const auto& r : sample_requests()) {
    INFO(describe(r));
    CHECK(run(forward_program, r) == run(backward_program, r));
  }
}

TEST_CASE("a rule covering everything ends the program; one with no access is left out") {
  const std::vector<cg::device_rule> all = {{'a', -1, -1, "rwm"}};
  CHECK(same_program(compile({{'a', -1, -1, "rwm"}, {'c', 1, 3, "r"}}), compile(all)));
  CHECK_FALSE(same_program(compile({{'c', 1, 3, "r"}, {'a', -1, -1, "rwm"}}), compile(all)));
  CHECK(same_program(compile({{'c', 1, 3, ""}}), compile({})));
  CHECK(same_program(compile({{'c', 1, 3, ""}, {'b', 7, 0, "r"}}), compile({{'b', 7, 0, "r"}})));
}

TEST_CASE("a malformed rule is refused, naming it") {
  struct bad_case {
    cg::device_rule rule;
    const char* named;
  };
  for (const auto& [rule, named] :
       {bad_case{{'x', 1, 3, "r"}, "x 1:3 r"}, bad_case{{'c', 1, 3, "rx"}, "c 1:3 rx"},
        bad_case{{'c', -2, 3, "r"}, "c -2:3 r"},
        bad_case{{'b', 1, 4294967296, "r"}, "b 1:4294967296 r"}}) {
    auto program = cg::compile_device_program({{'c', 1, 3, "rwm"}, rule});
    REQUIRE_FALSE(program);
    CHECK(program.error().kind() == error_kind::invalid_argument);
    CHECK(program.error().message().find(named) != std::string::npos);
  }
}
