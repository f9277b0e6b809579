#include "tools/policyc/policy_parser.h"

#include <seccomp.h>
#include <signal.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tools/policyc/policy_tables.h"

namespace rustiq::policyc {
namespace {

using sandbox::SeccompCompareOp;
using sandbox::SeccompComparison;
using sandbox::SeccompRuleAction;

const char* NativeArchName() {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_AARCH64:
      return "aarch64";
    case SCMP_ARCH_ARM:
      return "arm";
    case SCMP_ARCH_X86:
      return "x86";
    case SCMP_ARCH_RISCV64:
      return "riscv64";
    default:
      return "this architecture";
  }
}

// ---------------------------------------------------------------------------
// Tokens of a condition.

enum class TokenKind { kIdent, kNumber, kOperator, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  std::uint64_t number = 0;
};

bool IsIdentChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool IsOperatorChar(char c) {
  return c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|';
}

std::string Describe(const Token& token) {
  return token.kind == TokenKind::kEnd ? std::string("end of line")
                                       : absl::StrCat("'", token.text, "'");
}

// Decimal or 0x-hexadecimal, the whole token, no overflow.
absl::StatusOr<std::uint64_t> ParseNumber(absl::string_view text) {
  int base = 10;
  absl::string_view digits = text;
  if (absl::StartsWith(text, "0x") || absl::StartsWith(text, "0X")) {
    base = 16;
    digits.remove_prefix(2);
  } else if (text.size() > 1 && text[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat("bad number '", text,
                     "' (octal is not supported; write decimal or 0x...)"));
  }
  std::uint64_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
  if (digits.empty() || ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad number '", text, "'",
        ec == std::errc::result_out_of_range ? " (larger than 64 bits)" : ""));
  }
  return value;
}

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t') {
      ++i;
      continue;
    }
    std::size_t j = i;
    Token token;
    if (IsIdentChar(c)) {
      while (j < text.size() && IsIdentChar(text[j])) ++j;
      token.text = std::string(text.substr(i, j - i));
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        absl::StatusOr<std::uint64_t> number = ParseNumber(token.text);
        if (!number.ok()) return number.status();
        token.kind = TokenKind::kNumber;
        token.number = *number;
      } else {
        token.kind = TokenKind::kIdent;
      }
    } else if (IsOperatorChar(c)) {
      while (j < text.size() && IsOperatorChar(text[j])) ++j;
      token.kind = TokenKind::kOperator;
      token.text = std::string(text.substr(i, j - i));
    } else if (c == '-') {
      return absl::InvalidArgumentError(
          "negative values are not supported (comparisons are on the "
          "unsigned 64-bit register)");
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected character '", text.substr(i, 1), "'"));
    }
    tokens.push_back(std::move(token));
    i = j;
  }
  tokens.push_back(Token{});  // kEnd
  return tokens;
}

// ---------------------------------------------------------------------------
// Condition grammar (policy_parser.h), recursive descent over the tokens.

class ConditionParser {
 public:
  explicit ConditionParser(std::vector<Token> tokens)
      : tokens_(std::move(tokens)) {}

  absl::StatusOr<std::vector<ParsedAlternative>> Parse() {
    std::vector<ParsedAlternative> alternatives;
    while (true) {
      absl::StatusOr<ParsedAlternative> alt = ParseAlternative();
      if (!alt.ok()) return alt.status();
      alternatives.push_back(*std::move(alt));
      if (IsOperator("||")) {
        ++pos_;
        continue;
      }
      if (Peek().kind != TokenKind::kEnd) {
        return absl::InvalidArgumentError(absl::StrCat(
            "expected '||', '&&' or end of condition, got ", Describe(Peek())));
      }
      return alternatives;
    }
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  bool IsOperator(absl::string_view op) const {
    return Peek().kind == TokenKind::kOperator && Peek().text == op;
  }

  absl::StatusOr<ParsedAlternative> ParseAlternative() {
    ParsedAlternative alt;
    while (true) {
      absl::StatusOr<SeccompComparison> cmp = ParseComparison();
      if (!cmp.ok()) return cmp.status();
      alt.all_of.push_back(*cmp);
      if (!IsOperator("&&")) return alt;
      ++pos_;
    }
  }

  absl::StatusOr<SeccompComparison> ParseComparison() {
    const Token& arg = Peek();
    if (arg.kind != TokenKind::kIdent || !absl::StartsWith(arg.text, "arg")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected an argument (arg0..arg5), got ", Describe(arg)));
    }
    int index = -1;
    absl::string_view digits = absl::string_view(arg.text).substr(3);
    if (digits.size() != 1 || !absl::SimpleAtoi(digits, &index) || index < 0 ||
        index > 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad argument index '", arg.text, "' (arguments are arg0..arg5)"));
    }
    ++pos_;
    SeccompComparison cmp;
    cmp.arg = static_cast<std::uint8_t>(index);

    const Token& op = Peek();
    if (op.kind != TokenKind::kOperator) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected an operator after '", arg.text, "', got ", Describe(op)));
    }
    static const auto* kOps =
        new absl::flat_hash_map<std::string, SeccompCompareOp>{
            {"==", SeccompCompareOp::kEq}, {"!=", SeccompCompareOp::kNe},
            {"<", SeccompCompareOp::kLt},  {"<=", SeccompCompareOp::kLe},
            {">", SeccompCompareOp::kGt},  {">=", SeccompCompareOp::kGe},
        };
    if (op.text == "&") {
      ++pos_;
      absl::StatusOr<std::uint64_t> mask = ParseValue();
      if (!mask.ok()) return mask.status();
      if (!IsOperator("==")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "a masked comparison is 'argN & MASK == VALUE' (only ==), got ",
            Describe(Peek())));
      }
      ++pos_;
      absl::StatusOr<std::uint64_t> value = ParseValue();
      if (!value.ok()) return value.status();
      cmp.op = SeccompCompareOp::kMaskedEq;
      cmp.mask = *mask;
      cmp.value = *value;
      return cmp;
    }
    auto it = kOps->find(op.text);
    if (it == kOps->end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad operator '", op.text,
                       "' (expected ==, !=, <, <=, >, >= or & ... ==)"));
    }
    ++pos_;
    absl::StatusOr<std::uint64_t> value = ParseValue();
    if (!value.ok()) return value.status();
    cmp.op = it->second;
    cmp.value = *value;
    return cmp;
  }

  // atom { "|" atom }
  absl::StatusOr<std::uint64_t> ParseValue() {
    std::uint64_t value = 0;
    while (true) {
      const Token& atom = Peek();
      if (atom.kind == TokenKind::kNumber) {
        value |= atom.number;
      } else if (atom.kind == TokenKind::kIdent) {
        std::optional<std::uint64_t> constant = LookupConstant(atom.text);
        if (!constant.has_value()) {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown constant '", atom.text, "'"));
        }
        value |= *constant;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "expected a number or a constant, got ", Describe(atom)));
      }
      ++pos_;
      if (!IsOperator("|")) return value;
      ++pos_;
    }
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

// "errno ENOSYS" / "errno 38".
absl::StatusOr<int> ParseErrnoAction(const std::vector<Token>& tokens) {
  if (tokens.size() != 3 || (tokens[1].kind != TokenKind::kIdent &&
                             tokens[1].kind != TokenKind::kNumber)) {
    return absl::InvalidArgumentError(
        "the errno action is 'errno NAME' or 'errno NUMBER' (e.g. errno "
        "ENOSYS)");
  }
  if (tokens[1].kind == TokenKind::kNumber) {
    if (tokens[1].number < 1 || tokens[1].number > 4095) {
      return absl::InvalidArgumentError(
          absl::StrCat("errno ", tokens[1].text, " out of range 1..4095"));
    }
    return static_cast<int>(tokens[1].number);
  }
  std::optional<int> value = LookupErrno(tokens[1].text);
  if (!value.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown errno '", tokens[1].text, "'"));
  }
  return *value;
}

// Checks an alternative against libseccomp's limits and the sandbox's
// reservations; returns the error text or "".
std::string CheckAlternative(const ParsedRule& rule,
                             const ParsedAlternative& alt) {
  std::array<bool, 6> seen{};
  for (const SeccompComparison& cmp : alt.all_of) {
    if (seen[cmp.arg]) {
      return absl::StrCat("arg", cmp.arg,
                          " is compared twice in one alternative (libseccomp "
                          "allows one comparison per argument; use ||)");
    }
    seen[cmp.arg] = true;
    if (cmp.op == SeccompCompareOp::kMaskedEq && (cmp.value & ~cmp.mask) != 0) {
      return absl::StrCat("arg", cmp.arg, " & 0x", absl::Hex(cmp.mask),
                          " == 0x", absl::Hex(cmp.value),
                          " can never hold: the value has bits outside the "
                          "mask");
    }
  }
  if (rule.name == "rt_sigaction" && seen[0]) {
    const sandbox::SeccompAlternative view{alt.all_of};
    if (sandbox::SeccompAlternativeMayMatchInt(view, 0, SIGSYS)) {
      return "this arg0 condition may match SIGSYS, which the "
             "sandbox reserves (its kill rule); compare arg0 == <signal>";
    }
  }
  return "";
}

struct Line {
  absl::string_view code;  // before '#', trimmed
  std::optional<std::string> why;
  bool has_why_marker = false;  // "# why:" present, maybe empty
};

Line SplitLine(absl::string_view raw) {
  Line line;
  std::size_t hash = raw.find('#');
  line.code = absl::StripAsciiWhitespace(raw.substr(0, hash));
  if (hash != absl::string_view::npos) {
    absl::string_view comment =
        absl::StripAsciiWhitespace(raw.substr(hash + 1));
    if (absl::StartsWith(comment, "why:")) {
      line.has_why_marker = true;
      absl::string_view reason = absl::StripAsciiWhitespace(comment.substr(4));
      if (!reason.empty()) line.why = std::string(reason);
    }
  }
  return line;
}

}  // namespace

absl::StatusOr<int> ResolveNativeSyscall(absl::string_view name) {
  const std::string copy(name);
  const int number = seccomp_syscall_resolve_name(copy.c_str());
  if (number == __NR_SCMP_ERROR) {
    return absl::NotFoundError(absl::StrCat("unknown syscall '", name, "'"));
  }
  if (number < 0) {
    // libseccomp knows the name from another architecture (socketcall on
    // x86_64, say): a negative pseudo number.
    return absl::NotFoundError(absl::StrCat(
        "syscall '", name, "' does not exist on ", NativeArchName()));
  }
  return number;
}

absl::StatusOr<ParsedPolicy> ParsePolicy(absl::string_view text,
                                         absl::string_view file) {
  ParsedPolicy policy;
  policy.file = std::string(file);
  std::vector<std::string> errors;
  auto error = [&](int line, absl::string_view what) {
    errors.push_back(absl::StrCat(file, ":", line, ": ", what));
  };
  absl::flat_hash_map<std::string, int> line_of_name;
  absl::flat_hash_map<int, std::pair<std::string, int>> entry_of_number;

  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::EndsWith(raw, "\r")) raw.remove_suffix(1);
    const Line line = SplitLine(raw);
    if (line.code.empty()) continue;

    ParsedRule rule;
    rule.line = line_number;
    std::size_t name_end = 0;
    while (name_end < line.code.size() && IsIdentChar(line.code[name_end])) {
      ++name_end;
    }
    rule.name = std::string(line.code.substr(0, name_end));
    if (rule.name.empty()) {
      error(line_number,
            absl::StrCat("expected a syscall name, got '", line.code, "'"));
      continue;
    }
    if (absl::AsciiStrToLower(rule.name) != rule.name) {
      error(line_number,
            absl::StrCat("syscall names are lower case: '", rule.name, "'"));
      continue;
    }
    absl::string_view rest =
        absl::StripLeadingAsciiWhitespace(line.code.substr(name_end));
    if (!rest.empty() && rest[0] != ':') {
      error(line_number, absl::StrCat("expected ':' or end of line after '",
                                      rule.name, "', got '", rest, "'"));
      continue;
    }

    absl::StatusOr<int> number = ResolveNativeSyscall(rule.name);
    if (!number.ok()) {
      error(line_number, number.status().message());
      continue;
    }
    rule.number = *number;

    if (!rest.empty()) {
      rule.body = std::string(absl::StripAsciiWhitespace(rest.substr(1)));
      if (rule.body.empty()) {
        error(line_number,
              absl::StrCat("empty condition after '", rule.name, ":'"));
        continue;
      }
      absl::StatusOr<std::vector<Token>> tokens = Tokenize(rule.body);
      if (!tokens.ok()) {
        error(line_number,
              absl::StrCat(rule.name, ": ", tokens.status().message()));
        continue;
      }
      if ((*tokens)[0].kind == TokenKind::kIdent &&
          (*tokens)[0].text == "errno") {
        absl::StatusOr<int> value = ParseErrnoAction(*tokens);
        if (!value.ok()) {
          error(line_number,
                absl::StrCat(rule.name, ": ", value.status().message()));
          continue;
        }
        if (rule.name == "write" || rule.name == "rt_sigaction") {
          error(line_number,
                absl::StrCat(rule.name,
                             ": the errno action is not allowed here (the "
                             "sandbox needs write for violation reports and "
                             "rt_sigaction for its SIGSYS kill rule)"));
          continue;
        }
        rule.action = SeccompRuleAction::kErrno;
        rule.errno_value = *value;
      } else {
        // "<condition> else errno E": split off the fallback.
        std::size_t else_at = 0;
        while ((*tokens)[else_at].kind != TokenKind::kEnd &&
               !((*tokens)[else_at].kind == TokenKind::kIdent &&
                 (*tokens)[else_at].text == "else")) {
          ++else_at;
        }
        if ((*tokens)[else_at].kind != TokenKind::kEnd) {
          std::vector<Token> fallback(tokens->begin() + else_at + 1,
                                      tokens->end());
          if (fallback.empty() || fallback[0].kind != TokenKind::kIdent ||
              fallback[0].text != "errno") {
            error(line_number, absl::StrCat(rule.name,
                                            ": 'else' must be followed by "
                                            "'errno NAME'"));
            continue;
          }
          absl::StatusOr<int> value = ParseErrnoAction(fallback);
          if (!value.ok()) {
            error(line_number,
                  absl::StrCat(rule.name, ": ", value.status().message()));
            continue;
          }
          rule.otherwise_errno = *value;
          tokens->erase(tokens->begin() + else_at, tokens->end() - 1);
        }
        absl::StatusOr<std::vector<ParsedAlternative>> alternatives =
            ConditionParser(*std::move(tokens)).Parse();
        if (!alternatives.ok()) {
          error(line_number,
                absl::StrCat(rule.name, ": ", alternatives.status().message()));
          continue;
        }
        rule.any_of = *std::move(alternatives);
        bool bad = false;
        for (const ParsedAlternative& alt : rule.any_of) {
          if (std::string problem = CheckAlternative(rule, alt);
              !problem.empty()) {
            error(line_number, absl::StrCat(rule.name, ": ", problem));
            bad = true;
            break;
          }
        }
        if (bad) continue;
        if (rule.otherwise_errno != 0 &&
            (rule.any_of.size() != 1 || rule.any_of[0].all_of.size() != 1 ||
             rule.any_of[0].all_of[0].op == SeccompCompareOp::kMaskedEq ||
             rule.name == "write" || rule.name == "rt_sigaction")) {
          error(line_number,
                absl::StrCat(rule.name,
                             ": 'else errno' needs a condition of one "
                             "comparison with ==, !=, <, <=, > or >= (its "
                             "complement is filtered too), and not on write "
                             "or rt_sigaction"));
          continue;
        }
      }
    }

    if (line.why.has_value()) rule.why = *line.why;
    if (IsRiskySyscall(rule.name) && rule.why.empty()) {
      error(line_number,
            line.has_why_marker
                ? absl::StrCat("'", rule.name,
                               "' is a risky syscall and its '# why:' "
                               "comment is empty")
                : absl::StrCat("'", rule.name,
                               "' is a risky syscall: say why the daemon "
                               "needs it in a '# why: ...' comment on its "
                               "line"));
      continue;
    }

    if (auto it = line_of_name.find(rule.name); it != line_of_name.end()) {
      error(line_number, absl::StrCat("duplicate entry for '", rule.name,
                                      "' (first at line ", it->second,
                                      "); each syscall is listed once"));
      continue;
    }
    if (auto it = entry_of_number.find(rule.number);
        it != entry_of_number.end()) {
      error(line_number,
            absl::StrCat("'", rule.name, "' is the same syscall as '",
                         it->second.first, "' (line ", it->second.second, ")"));
      continue;
    }
    line_of_name.emplace(rule.name, line_number);
    entry_of_number.emplace(rule.number,
                            std::make_pair(rule.name, line_number));
    policy.rules.push_back(std::move(rule));
  }

  if (errors.empty() && policy.rules.empty()) {
    error(1, "empty policy: no syscall is listed");
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  return policy;
}

}  // namespace rustiq::policyc
