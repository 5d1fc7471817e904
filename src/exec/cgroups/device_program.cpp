// The allow list compiled to eBPF. The program reads the request from its
// context (struct bpf_cgroup_dev_ctx) into registers once, then tests
// each rule in order:
//
//   r2 = type    r3 = access    r4 = major    r5 = minor
//   rule:  if r2 != <type> goto next           (not for 'a')
//          r1 = r3 & ~<access>; if r1 != 0 goto next
//                                              (not for "rwm")
//          if r4 != <major> goto next          (not for -1)
//          if r5 != <minor> goto next          (not for -1)
//          r0 = 1; exit
//   next:  ...
//   r0 = 0; exit
//
// Comparisons are 32-bit (BPF_JMP32, Linux 5.1; cgroup v2 nodes for
// Kubernetes run 5.8 or later): the fields are u32 and a 64-bit compare
// would sign-extend an immediate above 2^31.

#include "exec/cgroups/device_program.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace ringcri::exec::cgroups {

namespace {

// The instructions used, in the kernel's encoding (include/linux/filter.h
// in the kernel's tree, which user space does not get).
bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
              std::int32_t imm) {
  bpf_insn out{};
  out.code = code;
  out.dst_reg = dst & 0xf;
  out.src_reg = src & 0xf;
  out.off = off;
  out.imm = imm;
  return out;
}
bpf_insn load_u32(std::uint8_t dst, std::uint8_t src, std::int16_t off) {
  return insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0);
}
bpf_insn mov32_reg(std::uint8_t dst, std::uint8_t src) {
  return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn mov32_imm(std::uint8_t dst, std::int32_t imm) {
  return insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn and32_imm(std::uint8_t dst, std::int32_t imm) {
  return insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm);
}
bpf_insn rsh32_imm(std::uint8_t dst, std::int32_t imm) {
  return insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm);
}
bpf_insn jne32_imm(std::uint8_t dst, std::uint32_t imm, std::int16_t off) {
  return insn(BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, off, static_cast<std::int32_t>(imm));
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

constexpr std::uint8_t r0 = BPF_REG_0, r1 = BPF_REG_1, r2 = BPF_REG_2, r3 = BPF_REG_3,
                       r4 = BPF_REG_4, r5 = BPF_REG_5;
constexpr std::uint32_t all_access = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

// A rule checked and put in the program's terms.
struct compiled_rule {
  std::uint32_t type = 0;  // BPF_DEVCG_DEV_*, 0 for any
  std::uint32_t access = 0;
  std::int64_t major = -1;
  std::int64_t minor = -1;
};

result<compiled_rule> compile_rule(const device_rule& rule) {
  auto bad = [&](std::string_view why) {
    return fail(error_kind::invalid_argument,
                fmt::format("device rule \"{}\": {}", to_string(rule), why));
  };
  compiled_rule out;
  switch (rule.type) {
    case 'a':
      break;
    case 'c':
      out.type = BPF_DEVCG_DEV_CHAR;
      break;
    case 'b':
      out.type = BPF_DEVCG_DEV_BLOCK;
      break;
    default:
      return bad("type is not a, c or b");
  }
  for (char c : rule.access) {
    switch (c) {
      case 'r':
        out.access |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        out.access |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        out.access |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        return bad("access is not made of r, w and m");
    }
  }
  constexpr std::int64_t max_number = std::numeric_limits<std::uint32_t>::max();
  if (rule.major < -1 || rule.major > max_number) return bad("major number out of range");
  if (rule.minor < -1 || rule.minor > max_number) return bad("minor number out of range");
  out.major = rule.major;
  out.minor = rule.minor;
  return out;
}

}  // namespace

result<std::vector<bpf_insn>> compile_device_program(const std::vector<device_rule>& allowed) {
  std::vector<compiled_rule> rules;
  rules.reserve(allowed.size());
  for (const auto& rule : allowed) {
    auto compiled = compile_rule(rule);
    if (!compiled) return tl::unexpected(compiled.error());
    rules.push_back(*compiled);
  }

  std::vector<bpf_insn> program = {
      load_u32(r2, r1, offsetof(bpf_cgroup_dev_ctx, access_type)),
      and32_imm(r2, 0xffff),
      load_u32(r3, r1, offsetof(bpf_cgroup_dev_ctx, access_type)),
      rsh32_imm(r3, 16),
      load_u32(r4, r1, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(r5, r1, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  program.reserve(program.size() + rules.size() * 7 + 2);

  for (const auto& rule : rules) {
    if (rule.access == 0) continue;  // allows nothing
    const bool any_type = rule.type == 0;
    const bool any_access = rule.access == all_access;
    // The checks in order, then "r0 = 1; exit": a check that does not
    // match jumps to the first instruction after the block.
    const std::size_t checks = (any_type ? 0 : 1) + (any_access ? 0 : 3) +
                               (rule.major < 0 ? 0 : 1) + (rule.minor < 0 ? 0 : 1);
    const std::size_t block_end = program.size() + checks + 2;
    auto to_next = [&] { return static_cast<std::int16_t>(block_end - (program.size() + 1)); };
    if (!any_type) program.push_back(jne32_imm(r2, rule.type, to_next()));
    if (!any_access) {
      program.push_back(mov32_reg(r1, r3));
      program.push_back(and32_imm(r1, static_cast<std::int32_t>(~rule.access & all_access)));
      program.push_back(jne32_imm(r1, 0, to_next()));
    }
    if (rule.major >= 0)
      program.push_back(jne32_imm(r4, static_cast<std::uint32_t>(rule.major), to_next()));
    if (rule.minor >= 0)
      program.push_back(jne32_imm(r5, static_cast<std::uint32_t>(rule.minor), to_next()));
    program.push_back(mov32_imm(r0, 1));
    program.push_back(exit_insn());
    if (checks == 0) return program;  // covers everything: nothing after it is reached
  }
  program.push_back(mov32_imm(r0, 0));
  program.push_back(exit_insn());
  return program;
}

}  // namespace ringcri::exec::cgroups
