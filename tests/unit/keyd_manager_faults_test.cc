// KeyManager when something goes wrong underneath it: a key deleted and
// created again while it is being rotated, a store write that fails before
// or after its rename, a master key file that cannot be removed at zeroize.
// The real soft backend and store, wrapped to hold a key generation, count
// the material destroyed, or fail a save the way a full disk or a failing
// directory sync would.
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/keyd/key_manager.h"
#include "services/keyd/soft_backend.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/keyd_test_util.h"

namespace rustiq::keyd {
namespace {

using test::IsError;
using Code = absl::StatusCode;

const Caller kPerson{"client/rustiqctl", true};
const Caller kSupervisor{"svc/supervisord", false};
constexpr auto kEcdsa = v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256;

// What the wrapped backend saw, and the gate a generation waits at.
struct BackendProbe {
  std::mutex mu;
  std::condition_variable cv;
  std::string gated_label;  // Generate of this label waits for `open`
  bool waiting = false;
  bool open = false;
  int destroyed = 0;
};

// The soft backend, observed through `probe`.
class ObservedBackend final : public KeyBackend {
 public:
  explicit ObservedBackend(BackendProbe* probe)
      : soft_(NewSoftBackend()), probe_(probe) {}
  const char* name() const override { return soft_->name(); }
  absl::StatusOr<SecretBytes> Generate(Algorithm algorithm,
                                       absl::string_view label) override {
    {
      std::unique_lock lock(probe_->mu);
      if (label == probe_->gated_label) {
        probe_->waiting = true;
        probe_->cv.notify_all();
        probe_->cv.wait(lock, [this] { return probe_->open; });
      }
    }
    return soft_->Generate(algorithm, label);
  }
  absl::StatusOr<std::unique_ptr<BackendKey>> Open(
      Algorithm algorithm, const SecretBytes& handle) override {
    return soft_->Open(algorithm, handle);
  }
  absl::Status Destroy(Algorithm algorithm,
                       const SecretBytes& handle) override {
    {
      std::lock_guard lock(probe_->mu);
      ++probe_->destroyed;
    }
    return soft_->Destroy(algorithm, handle);
  }
  absl::Status DestroyAll() override { return soft_->DestroyAll(); }

 private:
  std::unique_ptr<KeyBackend> soft_;
  BackendProbe* probe_;
};

enum class SaveFault {
  kNone,
  kBeforeWriting,  // nothing written (a full disk)
  kAfterRename,    // replaced, but the directory sync failed
};

// The real store file; the next save fails as `*fault` says (once).
class FaultyStore final : public KeyStoreFile {
 public:
  FaultyStore(const test::KeydFiles& files, SaveFault* fault)
      : KeyStoreFile(files.store, *LoadMasterKey(files.master_key)),
        fault_(fault) {}
  pki::AtomicWriteResult Save(store::StoreContents* contents) const override {
    SaveFault fault = *fault_;
    *fault_ = SaveFault::kNone;
    switch (fault) {
      case SaveFault::kBeforeWriting:
        return {absl::ResourceExhaustedError("injected: no space left")};
      case SaveFault::kAfterRename: {
        pki::AtomicWriteResult r = KeyStoreFile::Save(contents);
        EXPECT_TRUE(r.status.ok()) << r.status;
        return {absl::InternalError("injected: cannot flush the directory"),
                /*replaced=*/true};
      }
      case SaveFault::kNone:
        break;
    }
    return KeyStoreFile::Save(contents);
  }

 private:
  SaveFault* fault_;
};

// An ECDSA signature of "m" with key "k".
v1::SignRequest SignK() {
  v1::SignRequest r;
  r.set_name("k");
  r.set_algorithm(kEcdsa);
  r.set_message("m");
  return r;
}

std::vector<uint32_t> VersionsOf(const v1::KeyInfo& info) {
  std::vector<uint32_t> out;
  for (const v1::KeyVersion& v : info.versions()) out.push_back(v.version());
  return out;
}

class KeydManagerFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenObserved(); }

  // The manager on the observed backend and the faulty store.
  void OpenObserved() {
    keys_.reset();
    absl::StatusOr<std::unique_ptr<KeyManager>> m = KeyManager::Open(
        std::make_unique<ObservedBackend>(&probe_),
        std::make_unique<FaultyStore>(files_, &fault_), test::CompiledKeys(),
        test::kDeviceId, &sink_, /*create_store=*/true);
    ASSERT_TRUE(m.ok()) << m.status();
    keys_ = *std::move(m);
  }
  // What a restarted keyd finds: a plain manager on the same files.
  absl::StatusOr<std::unique_ptr<KeyManager>> Restarted() {
    return test::OpenManager(files_, &sink_, test::CompiledKeys(),
                             /*create_store=*/false);
  }

  absl::StatusOr<v1::KeyInfo> Create(const std::string& name,
                                     v1::KeyAlgorithm algorithm) {
    v1::CreateKeyRequest r;
    r.set_name(name);
    r.set_algorithm(algorithm);
    return keys_->CreateKey(kPerson, r);
  }
  int Destroyed() {
    std::lock_guard lock(probe_.mu);
    return probe_.destroyed;
  }

  rustiq::testing::TempDir dir_{"keyd-faults"};
  test::KeydFiles files_{dir_};
  test::RecordingSink sink_;
  BackendProbe probe_;
  SaveFault fault_ = SaveFault::kNone;
  std::unique_ptr<KeyManager> keys_;
};

// ---------------------------------------------------------------------------
// A rotation racing a delete

TEST_F(KeydManagerFaultsTest, ARotationLosesToADeleteAndRecreateOfTheName) {
  ASSERT_TRUE(Create("k", v1::KEY_ALGORITHM_ED25519).ok());
  {
    std::lock_guard lock(probe_.mu);
    probe_.gated_label = "k.v2";
  }
  absl::StatusOr<v1::KeyInfo> rotated = absl::UnknownError("not run");
  std::thread rotator([&] { rotated = keys_->RotateKey(kPerson, "k"); });
  {
    // The rotation is generating its Ed25519 version outside the lock...
    std::unique_lock lock(probe_.mu);
    probe_.cv.wait(lock, [this] { return probe_.waiting; });
  }
  // ... when "k" is deleted and created again as a P-256 key.
  ASSERT_TRUE(keys_->DeleteKey(kPerson, "k").ok());
  ASSERT_TRUE(Create("k", v1::KEY_ALGORITHM_EC_P256).ok());
  {
    std::lock_guard lock(probe_.mu);
    probe_.open = true;
  }
  probe_.cv.notify_all();
  rotator.join();

  EXPECT_TRUE(IsError(rotated, Code::kAborted,
                      {"deleted and created again while it was being rotated",
                       "rotate it again"}));
  absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kPerson, "k");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->algorithm(), v1::KEY_ALGORITHM_EC_P256);
  EXPECT_EQ(VersionsOf(*info), std::vector<uint32_t>{1});
  EXPECT_TRUE(keys_->Sign(kPerson, SignK()).ok());
  // And keyd starts again: the store holds no Ed25519 version in a P-256 key.
  keys_.reset();
  absl::StatusOr<std::unique_ptr<KeyManager>> again = Restarted();
  ASSERT_TRUE(again.ok()) << again.status();
  info = (*again)->GetKey(kPerson, "k");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(VersionsOf(*info), std::vector<uint32_t>{1});
}

// ---------------------------------------------------------------------------
// Store writes that fail

TEST_F(KeydManagerFaultsTest, NothingWrittenMeansNothingChanged) {
  ASSERT_TRUE(Create("k", v1::KEY_ALGORITHM_EC_P256).ok());
  ASSERT_TRUE(keys_->RotateKey(kPerson, "k").ok());
  const int destroyed = Destroyed();

  fault_ = SaveFault::kBeforeWriting;
  EXPECT_TRUE(IsError(keys_->RotateKey(kPerson, "k"), Code::kResourceExhausted,
                      {"no space left"}));
  // The version generated for it is destroyed: no store names it.
  EXPECT_EQ(Destroyed(), destroyed + 1);
  fault_ = SaveFault::kBeforeWriting;
  EXPECT_FALSE(keys_->RetireKeyVersion(kPerson, "k", 1).ok());
  fault_ = SaveFault::kBeforeWriting;
  EXPECT_FALSE(keys_->DeleteKey(kPerson, "k").ok());
  fault_ = SaveFault::kBeforeWriting;
  EXPECT_FALSE(Create("other", v1::KEY_ALGORITHM_ED25519).ok());
  EXPECT_EQ(Destroyed(), destroyed + 2);  // the new key's material
  EXPECT_TRUE(
      IsError(keys_->GetKey(kPerson, "other"), Code::kNotFound, {"no key"}));
  absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kPerson, "k");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(VersionsOf(*info), (std::vector<uint32_t>{1, 2}));

  // Memory and the file agree.
  keys_.reset();
  absl::StatusOr<std::unique_ptr<KeyManager>> again = Restarted();
  ASSERT_TRUE(again.ok()) << again.status();
  info = (*again)->GetKey(kPerson, "k");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(VersionsOf(*info), (std::vector<uint32_t>{1, 2}));
  EXPECT_FALSE((*again)->GetKey(kPerson, "other").ok());
}

TEST_F(KeydManagerFaultsTest, AReplacedButUnsyncedStoreIsWhatKeydFollows) {
  ASSERT_TRUE(Create("k", v1::KEY_ALGORITHM_EC_P256).ok());
  ASSERT_TRUE(Create("gone", v1::KEY_ALGORITHM_EC_P256).ok());
  const int destroyed = Destroyed();
  auto not_durable = [](const absl::Status& s) {
    return IsError(s, Code::kInternal,
                   {"cannot flush the directory", "the change is in effect",
                    "may not survive a power loss", "keys.store"});
  };

  // Rotate: the file names version 2, so version 2 stays, current, and its
  // material is not destroyed (on PKCS#11 the store would name a token
  // object that no longer exists, and keyd would not start).
  fault_ = SaveFault::kAfterRename;
  EXPECT_TRUE(not_durable(keys_->RotateKey(kPerson, "k").status()));
  absl::StatusOr<v1::KeyInfo> info = keys_->GetKey(kPerson, "k");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(VersionsOf(*info), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(Destroyed(), destroyed);

  // Retire and delete are in effect too, but the material stays: the old
  // file may yet come back after a power loss, naming it.
  fault_ = SaveFault::kAfterRename;
  EXPECT_TRUE(not_durable(keys_->RetireKeyVersion(kPerson, "k", 1).status()));
  fault_ = SaveFault::kAfterRename;
  EXPECT_TRUE(not_durable(keys_->DeleteKey(kPerson, "gone")));
  EXPECT_EQ(Destroyed(), destroyed);
  EXPECT_TRUE(IsError(keys_->GetKey(kPerson, "gone"), Code::kNotFound));
  fault_ = SaveFault::kAfterRename;
  EXPECT_TRUE(not_durable(Create("new", v1::KEY_ALGORITHM_ED25519).status()));
  EXPECT_TRUE(keys_->GetKey(kPerson, "new").ok());
  EXPECT_EQ(Destroyed(), destroyed);

  // Each is recorded, as it happened.
  EXPECT_EQ(sink_.WithAction("key.rotated").size(), 1u);
  EXPECT_EQ(sink_.WithAction("key.version.retired").size(), 1u);
  EXPECT_EQ(sink_.WithAction("key.deleted").size(), 1u);

  // A restart finds what memory held.
  keys_.reset();
  absl::StatusOr<std::unique_ptr<KeyManager>> again = Restarted();
  ASSERT_TRUE(again.ok()) << again.status();
  info = (*again)->GetKey(kPerson, "k");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(VersionsOf(*info), std::vector<uint32_t>{2});
  EXPECT_FALSE((*again)->GetKey(kPerson, "gone").ok());
  EXPECT_TRUE((*again)->GetKey(kPerson, "new").ok());
  absl::StatusOr<v1::SignResponse> signed_ = (*again)->Sign(kPerson, SignK());
  ASSERT_TRUE(signed_.ok()) << signed_.status();
  EXPECT_EQ(signed_->version(), 2u);
}

// ---------------------------------------------------------------------------
// Zeroize and the master key file

// Runs `f` on a thread without CAP_DAC_OVERRIDE and CAP_FOWNER in its
// effective set (capabilities are per thread; pid 0 is this thread), so
// that a directory's mode stops even root.
template <typename F>
void WithoutDacOverride(F f) {
  std::thread t([&] {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    ASSERT_EQ(syscall(SYS_capget, &header, data), 0);
    for (int cap : {CAP_DAC_OVERRIDE, CAP_FOWNER}) {
      data[cap / 32].effective &= ~(1u << (cap % 32));
    }
    ASSERT_EQ(syscall(SYS_capset, &header, data), 0);
    f();
  });
  t.join();
}

TEST_F(KeydManagerFaultsTest, ZeroizeReportsAMasterKeyItCannotRemove) {
  // A master key file in a directory keyd may not write: zeroize destroys
  // every key and the store, but cannot remove the file, and must say so
  // (a copy of the store left on flash would still open with it).
  const std::string locked = dir_ / "locked";
  ASSERT_EQ(mkdir(locked.c_str(), 0700), 0);
  const std::string master = locked + "/master.key";
  ASSERT_TRUE(CreateMasterKey(master).ok());
  ASSERT_EQ(chmod(locked.c_str(), 0500), 0);

  v1::ZeroizeRequest request;
  request.set_confirm(kZeroizeConfirmation);
  absl::StatusOr<uint32_t> destroyed = absl::UnknownError("not run");
  WithoutDacOverride(
      [&] { destroyed = keys_->Zeroize(kSupervisor, request, master); });
  ASSERT_EQ(chmod(locked.c_str(), 0700), 0);

  EXPECT_TRUE(IsError(destroyed, Code::kInternal,
                      {"cannot remove the master key file", master,
                       "Permission denied", "delete it by hand"}));
  EXPECT_EQ(access(master.c_str(), F_OK), 0);
  // Everything else is gone all the same, and the failure is on record.
  EXPECT_TRUE(keys_->zeroized());
  EXPECT_NE(access(files_.store.c_str(), F_OK), 0);
  std::vector<audit::SecurityEvent> events = sink_.WithAction("keys.zeroize");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].outcome, audit::Outcome::kFailure);
  EXPECT_NE(test::Attribute(events[1], "error").find("master key file"),
            std::string::npos);
}

TEST_F(KeydManagerFaultsTest, ZeroizeAcceptsAMasterKeyAlreadyGone) {
  v1::ZeroizeRequest request;
  request.set_confirm(kZeroizeConfirmation);
  absl::StatusOr<uint32_t> destroyed =
      keys_->Zeroize(kSupervisor, request, dir_ / "no-such.key");
  EXPECT_TRUE(destroyed.ok()) << destroyed.status();
}

}  // namespace
}  // namespace rustiq::keyd
