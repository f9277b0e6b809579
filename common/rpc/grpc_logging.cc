#include "common/rpc/grpc_logging.h"

#include <grpc/support/log.h>

#include <cstring>
#include <mutex>

#include "common/logging/log.h"

namespace rustiq::rpc {
namespace {

constexpr const char* kBenign[] = {"No match found for server name"};

void LogFromGrpc(gpr_log_func_args* args) {
  log::Level level = log::Level::kInfo;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) level = log::Level::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = log::Level::kDebug;
  for (const char* benign : kBenign) {
    if (std::strstr(args->message, benign) != nullptr)
      level = log::Level::kDebug;
  }
  const char* file = std::strrchr(args->file, '/');
  log::Write(level, args->message,
             {{"source", "grpc"},
              {"at", std::string(file != nullptr ? file + 1 : args->file) +
                         ":" + std::to_string(args->line)}});
}

}  // namespace

void RouteGrpcLogsToStructuredLog() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(&LogFromGrpc); });
}

}  // namespace rustiq::rpc
