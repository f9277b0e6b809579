#include "services/authd/password_policy.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging/log.h"
#include "services/authd/password_hasher.h"

namespace rustiq::authd {
namespace {

// Names shorter than this are only refused as the whole password: "al"
// inside a password is no weakness, and refusing it would refuse most.
constexpr size_t kMinContainedNameChars = 3;
// Shorter stripped forms ("ab" of "ab!7#k2$9x%q") are not judged as runs or
// repeats: what was stripped carries the strength.
constexpr size_t kMinPatternChars = 6;
// A unit of up to this many characters repeated is a trivial pattern
// ("aaaa...", "abcabc...", "121212...").
constexpr size_t kMaxTrivialUnitChars = 3;

// Runs people type: the alphabet, digits (wrapping, so "890123" is one),
// keyboard rows, the rows as one run, columns (QWERTY, QWERTZ, AZERTY).
// Checked forwards and backwards, lowercase.
constexpr const char* kRuns[] = {
    "abcdefghijklmnopqrstuvwxyz",
    "012345678901234567890",
    "`1234567890-=",
    "~!@#$%^&*()_+",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "7894561230",
    "1472583690",
};

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool DecodeUtf8(absl::string_view text, std::u32string* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    size_t n;
    char32_t cp;
    char32_t min;
    if (b0 < 0x80) {
      n = 1, cp = b0, min = 0;
    } else if ((b0 & 0xe0) == 0xc0) {
      n = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
      n = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
      n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i < n) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    out->push_back(cp);
    i += n;
  }
  return true;
}

// C0, DEL, C1, and the Unicode line and paragraph separators.
bool IsControl(char32_t c) {
  return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029;
}

bool IsAsciiPunctOrSpace(char c) {
  return c == ' ' || absl::ascii_ispunct(static_cast<unsigned char>(c));
}
bool IsDigitPunctOrSpace(char c) {
  return absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
         IsAsciiPunctOrSpace(c);
}

template <typename Pred>
std::string StripTrailing(const std::string& s, Pred pred) {
  size_t end = s.size();
  while (end > 0 && pred(s[end - 1])) --end;
  return s.substr(0, end);
}

// Undoes common leetspeak; '1' reads as `one_as` ('i' or 'l').
std::string Deleet(const std::string& s, char one_as) {
  static constexpr std::pair<char, char> kLeet[] = {
      {'0', 'o'}, {'3', 'e'}, {'4', 'a'}, {'5', 's'}, {'@', 'a'}, {'$', 's'}};
  std::string out = s;
  for (char& c : out) {
    if (c == '1') c = one_as;
    for (const auto& [leet, letter] : kLeet) {
      if (c == leet) c = letter;
    }
  }
  return out;
}

// The password-derived strings the checks look at, wiped when done.
class Forms {
 public:
  explicit Forms(absl::string_view password) {
    const std::string lower = absl::AsciiStrToLower(password);
    const std::string bases[] = {lower,
                                 StripTrailing(lower, IsAsciiPunctOrSpace),
                                 StripTrailing(lower, IsDigitPunctOrSpace)};
    for (const std::string& base : bases) {
      Add(base);
      for (char one_as : {'i', 'l'}) {
        const std::string plain = Deleet(base, one_as);
        Add(plain);
        Add(StripTrailing(plain, IsDigitPunctOrSpace));
      }
    }
  }
  ~Forms() {
    for (std::string& f : forms_) {
      if (!f.empty()) OPENSSL_cleanse(f.data(), f.size());
    }
  }
  Forms(const Forms&) = delete;
  Forms& operator=(const Forms&) = delete;

  const std::vector<std::string>& List() const { return forms_; }

 private:
  void Add(std::string form) {
    if (form.empty()) return;
    for (const std::string& f : forms_) {
      if (f == form) return;
    }
    forms_.push_back(std::move(form));
  }
  std::vector<std::string> forms_;
};

const absl::flat_hash_set<std::string>& CommonPasswords() {
  static const auto* const kSet = [] {
    auto* set = new absl::flat_hash_set<std::string>();
    for (absl::string_view line :
         absl::StrSplit(CompiledCommonPasswords(), '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || line[0] == '#') continue;
      set->insert(absl::AsciiStrToLower(line));
    }
    return set;
  }();
  return *kSet;
}

// The length of the shortest unit that repeated makes up `s` (s.size() when
// there is none). On UTF-8 bytes a unit is always whole code points: it
// starts where `s` does, at a lead byte.
template <typename String>
size_t Period(const String& s) {
  for (size_t p = 1; p <= s.size() / 2; ++p) {
    if (s.size() % p != 0) continue;
    bool repeats = true;
    for (size_t i = p; i < s.size() && repeats; ++i) repeats = s[i] == s[i - p];
    if (repeats) return p;
  }
  return s.size();
}

bool IsRun(const std::string& s) {
  const std::string reversed(s.rbegin(), s.rend());
  for (const char* run : kRuns) {
    const std::string_view r(run);
    if (r.find(s) != std::string_view::npos ||
        r.find(reversed) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// One character or a short group repeated, or a run.
bool IsTrivial(const std::string& form) {
  std::u32string cps;
  if (!DecodeUtf8(form, &cps) || cps.size() < kMinPatternChars) return false;
  const bool trivial = Period(cps) <= kMaxTrivialUnitChars || IsRun(form);
  OPENSSL_cleanse(cps.data(), cps.size() * sizeof(char32_t));
  return trivial;
}

// A listed password, or one repeated ("dragondragon").
bool IsCommon(const std::string& form) {
  const absl::flat_hash_set<std::string>& list = CommonPasswords();
  if (list.contains(form)) return true;
  const size_t period = Period(form);
  if (period == form.size()) return false;
  std::string unit = form.substr(0, period);
  const bool common = list.contains(unit);
  OPENSSL_cleanse(unit.data(), unit.size());
  return common;
}

bool ContainsName(const Forms& forms, absl::string_view user_name) {
  if (user_name.empty()) return false;
  const std::string name = absl::AsciiStrToLower(user_name);
  for (const std::string& f : forms.List()) {
    if (name.size() >= kMinContainedNameChars
            ? f.find(name) != std::string::npos
            : f == name) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::Status CheckNewPassword(absl::string_view password,
                              absl::string_view user_name,
                              const PasswordPolicyOptions& options) {
  if (password.empty()) {
    return absl::InvalidArgumentError("the password is empty");
  }
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the password is longer than ", kMaxPasswordBytes,
                     " bytes; use a shorter one"));
  }
  std::u32string cps;
  const bool utf8 = DecodeUtf8(password, &cps);
  bool control = false;
  for (char32_t c : cps) control = control || IsControl(c);
  const size_t length = cps.size();
  if (!cps.empty()) OPENSSL_cleanse(cps.data(), cps.size() * sizeof(char32_t));
  if (!utf8) {
    return absl::InvalidArgumentError(
        "the password is not valid UTF-8 text; type it again in a UTF-8 "
        "terminal");
  }
  if (control) {
    return absl::InvalidArgumentError(
        "the password contains a control character (such as NUL, tab or a "
        "line break); use only letters, digits, spaces and symbols");
  }
  if (length < options.min_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the password is too short: use at least ", options.min_length,
        " characters (a few unrelated words make a long password that is "
        "easy to remember)"));
  }
  const Forms forms(password);
  if (ContainsName(forms, user_name)) {
    return absl::InvalidArgumentError(
        "the password must not be or contain the user name");
  }
  bool trivial = false;
  bool common = false;
  for (const std::string& f : forms.List()) {
    trivial = trivial || IsTrivial(f);
    common = common || IsCommon(f);
  }
  if (trivial) {
    return absl::InvalidArgumentError(
        "the password is a repeated character or pattern, or a run of the "
        "alphabet, of digits or along the keyboard; choose something less "
        "predictable");
  }
  if (common) {
    return absl::InvalidArgumentError(
        "the password is one of the most common passwords (perhaps with "
        "letters swapped for look-alike digits or symbols, repeated, or with "
        "digits and symbols added at the end); choose something less "
        "predictable, such as a few unrelated words");
  }
  return absl::OkStatus();
}

std::string RandomInitialPassword(absl::string_view user_name) {
  // 32 letters without look-alikes (no 0 O 1 l I; lowercase only, so there
  // is no case to get wrong either): 5 bits each, 100 bits in all.
  static constexpr char kAlphabet[] = "23456789abcdefghijkmnpqrstuvwxyz";
  constexpr unsigned kSymbols = sizeof(kAlphabet) - 1;
  static_assert(kSymbols == 32);
  // Rejection sampling: bytes at or above the largest multiple of kSymbols
  // are drawn again, so every symbol is equally likely (none with a 32
  // letter alphabet, but the alphabet may change).
  constexpr unsigned kLimit = 256 - 256 % kSymbols;
  constexpr int kGroups = 4;
  constexpr int kGroupChars = 5;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string password;
    std::array<unsigned char, 64> pool;
    size_t used = pool.size();
    while (password.size() < kGroups * (kGroupChars + 1) - 1) {
      if (used == pool.size()) {
        if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
          log::Error("the random generator failed; cannot make a credential");
          std::abort();
        }
        used = 0;
      }
      const unsigned byte = pool[used++];
      if (byte >= kLimit) continue;
      if (password.size() % (kGroupChars + 1) == kGroupChars) {
        password.push_back('-');
      }
      password.push_back(kAlphabet[byte % kSymbols]);
    }
    OPENSSL_cleanse(pool.data(), pool.size());
    if (CheckNewPassword(password, user_name).ok()) return password;
    OPENSSL_cleanse(password.data(), password.size());
  }
  log::Error("no random credential passed the password policy");
  std::abort();
}

}  // namespace rustiq::authd
