#include "bench/bench_flags.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rustiq::bench {

void FlagParser::Switch(std::string name, bool* out) {
  switches_.emplace_back(std::move(name), out);
}

void FlagParser::Valued(std::string name,
                        std::function<bool(const std::string&)> parse) {
  valued_.emplace_back(std::move(name), std::move(parse));
}

void FlagParser::NonEmpty(std::string name, std::string* out) {
  Valued(std::move(name), [out](const std::string& v) {
    *out = v;
    return !v.empty();
  });
}

absl::Status FlagParser::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "--help" || name == "-h") return absl::CancelledError("help");
    auto named = [&name](const auto& flag) { return flag.first == name; };
    if (!has_value) {
      auto sw = std::find_if(switches_.begin(), switches_.end(), named);
      if (sw != switches_.end()) {
        *sw->second = true;
        continue;
      }
    }
    auto flag = std::find_if(valued_.begin(), valued_.end(), named);
    if (flag == valued_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
      value = argv[++i];
    }
    given_.push_back(name);
    if (!flag->second(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for ", name, ": \"", value, "\""));
    }
  }
  return absl::OkStatus();
}

bool FlagParser::Given(absl::string_view name) const {
  return std::find(given_.begin(), given_.end(), name) != given_.end();
}

void ApplyQuickRun(const FlagParser& parser, RunFlags* f, double seconds,
                   double warmup) {
  if (!parser.Given("--rounds")) f->rounds = 1;
  if (!parser.Given("--seconds")) f->seconds = seconds;
  if (!parser.Given("--warmup")) f->warmup = warmup;
  if (!parser.Given("--max-other-load")) f->max_other_load = 0;
}

void AddRunFlags(FlagParser* parser, RunFlags* f, int max_threads) {
  parser->Valued("--seconds", [f](const std::string& v) {
    return absl::SimpleAtod(v, &f->seconds) && f->seconds > 0;
  });
  parser->Valued("--rounds", [f](const std::string& v) {
    return absl::SimpleAtoi(v, &f->rounds) && f->rounds > 0;
  });
  parser->Valued("--warmup", [f](const std::string& v) {
    return absl::SimpleAtod(v, &f->warmup) && f->warmup >= 0;
  });
  parser->Valued("--threads", [f, max_threads](const std::string& v) {
    return ParseCounts(v, max_threads, &f->threads);
  });
  parser->Valued("--max-other-load", [f](const std::string& v) {
    return absl::SimpleAtod(v, &f->max_other_load);
  });
}

bool ParseCounts(absl::string_view value, int max, std::vector<int>* out) {
  out->clear();
  bool ok = true;
  for (absl::string_view t : absl::StrSplit(value, ',')) {
    int n = 0;
    ok = ok && absl::SimpleAtoi(t, &n) && n > 0 && n <= max;
    out->push_back(n);
  }
  return ok;
}

int UsageExit(absl::string_view tool, const absl::Status& status,
              const char* usage) {
  if (absl::IsCancelled(status)) {
    fputs(usage, stdout);
    return 0;
  }
  fprintf(stderr, "%s: %s\n%s", std::string(tool).c_str(),
          std::string(status.message()).c_str(), usage);
  return 2;
}

}  // namespace rustiq::bench
