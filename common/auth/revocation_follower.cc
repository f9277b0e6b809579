#include "common/auth/revocation_follower.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "common/logging/log.h"

namespace rustiq::auth {
namespace {

std::vector<Revocation> RevocationsOf(
    const v1::WatchRevocationsResponse& message) {
  std::vector<Revocation> out;
  out.reserve(static_cast<size_t>(message.revocations_size()));
  for (const v1::Revocation& r : message.revocations()) {
    out.push_back(
        {r.token_id(), absl::FromUnixSeconds(r.expires_unix_seconds())});
  }
  return out;
}

}  // namespace

RevocationFollower::RevocationFollower(std::shared_ptr<grpc::Channel> authd,
                                       RevocationSet* set)
    : RevocationFollower(std::move(authd), set, Options()) {}

RevocationFollower::RevocationFollower(std::shared_ptr<grpc::Channel> authd,
                                       RevocationSet* set, Options options)
    : channel_(std::move(authd)),
      stub_(v1::Auth::NewStub(channel_)),
      set_(set),
      options_(std::move(options)) {}

RevocationFollower::~RevocationFollower() { Stop(); }

void RevocationFollower::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void RevocationFollower::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (call_ != nullptr) call_->TryCancel();
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

bool RevocationFollower::WaitFor(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

void RevocationFollower::Run() {
  absl::BitGen random;
  absl::Duration backoff = options_.initial_backoff;
  bool complained = false;  // one warning per outage, not one per attempt
  for (bool first = true;; first = false) {
    if (!first) {
      // The channel backs off its own reconnects, up to two minutes; this
      // loop paces the attempts, so each one really tries.
      grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
    }
    grpc::Status ended;
    bool synced = FollowOnce(&ended);
    set_->MarkDisconnected(options_.now());
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (synced) {
      backoff = options_.initial_backoff;
      complained = false;
    }
    if (!complained) {
      std::string code = absl::StatusCodeToString(
          static_cast<absl::StatusCode>(ended.error_code()));
      log::Warning(synced ? "lost the revocation stream from authd; "
                            "reconnecting"
                          : "cannot follow revocations from authd; retrying",
                   {{"code", code}, {"error", ended.error_message()}});
      complained = true;
    }
    absl::Duration wait = backoff * absl::Uniform(random, 0.5, 1.0);
    if (!WaitFor(wait)) return;
    if (!synced) backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool RevocationFollower::FollowOnce(grpc::Status* ended) {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      *ended = grpc::Status(grpc::StatusCode::CANCELLED, "stopping");
      return false;
    }
    call_ = &context;
  }
  v1::WatchRevocationsRequest request;
  std::unique_ptr<grpc::ClientReader<v1::WatchRevocationsResponse>> reader =
      stub_->WatchRevocations(&context, request);
  v1::WatchRevocationsResponse message;
  bool synced = false;
  while (reader->Read(&message)) {
    std::vector<Revocation> revocations = RevocationsOf(message);
    if (message.snapshot()) {
      set_->ReplaceAll(revocations);
      if (!synced) {
        set_->MarkSynced(options_.now());
        log::Info("following revocations from authd",
                  {{"revoked", set_->size()}});
        synced = true;
      }
    } else if (!synced) {
      // Additions without the list they add to would leave holes.
      log::Warning(
          "authd sent revocations before their snapshot; "
          "reconnecting");
      context.TryCancel();
      break;
    } else {
      set_->Add(revocations);
    }
    set_->Prune(options_.now());
  }
  *ended = reader->Finish();
  absl::MutexLock lock(&mu_);
  call_ = nullptr;
  return synced;
}

}  // namespace rustiq::auth
