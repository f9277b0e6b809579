// The command-line flags the benchmarks share: how they are parsed
// (--name VALUE or --name=VALUE, switches without a value, --help), the
// flags of every measurement (--seconds, --rounds, --warmup, --threads,
// --max-other-load) and what main() does when they do not parse.
#ifndef RUSTIQ_BENCH_BENCH_FLAGS_H_
#define RUSTIQ_BENCH_BENCH_FLAGS_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rustiq::bench {

// One benchmark's flags. Parse() takes the arguments in order: --help or -h
// (with or without a value) asks for the usage; a switch given without a
// value is set; any other flag must be a valued one, its value the rest of
// the argument after '=' or else the next argument.
class FlagParser {
 public:
  // --name sets *out.
  void Switch(std::string name, bool* out);
  // --name VALUE: parse(VALUE) stores it and says whether it is good.
  void Valued(std::string name, std::function<bool(const std::string&)> parse);
  // --name VALUE into *out; an empty VALUE is bad.
  void NonEmpty(std::string name, std::string* out);

  // Cancelled for --help; InvalidArgument, "unknown flag --x", "--x needs a
  // value" or "bad value for --x: "V"", for the first argument that fails.
  absl::Status Parse(int argc, char** argv);
  // Whether the valued flag `name` was given.
  bool Given(absl::string_view name) const;

 private:
  std::vector<std::pair<std::string, bool*>> switches_;
  std::vector<std::pair<std::string, std::function<bool(const std::string&)>>>
      valued_;
  std::vector<std::string> given_;
};

// What every benchmark measures by (each sets its own defaults).
struct RunFlags {
  double seconds = 2;  // measured per measurement and round
  int rounds = 3;
  double warmup = 0.5;  // unrecorded, before each measurement
  std::vector<int> threads = {1, 4};
  // A measurement during which other processes used more than this many
  // cores is repeated (QuietCheck); <= 0 never repeats.
  double max_other_load = 0.1;
};

// --seconds S (> 0), --rounds N (> 0), --warmup S (>= 0), --threads (counts
// of 1 to `max_threads`), --max-other-load C into `f`.
void AddRunFlags(FlagParser* parser, RunFlags* f, int max_threads);

// A --quick smoke run: one round of `seconds` after `warmup`, reporting the
// quiet check without waiting for quiet; each only where its flag was not
// given (a benchmark shortens its own flags the same way, with Given()).
void ApplyQuickRun(const FlagParser& parser, RunFlags* f, double seconds,
                   double warmup);

// Comma-separated counts, each from 1 to `max`, into *out (replaced); false
// when one is not.
bool ParseCounts(absl::string_view value, int max, std::vector<int>* out);

// What main() returns when the flags did not parse (`status`): after --help,
// 0 with `usage` on stdout; else 2 with "<tool>: <error>" and `usage` on
// stderr.
int UsageExit(absl::string_view tool, const absl::Status& status,
              const char* usage);

}  // namespace rustiq::bench

#endif  // RUSTIQ_BENCH_BENCH_FLAGS_H_
