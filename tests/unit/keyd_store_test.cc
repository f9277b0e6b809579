// keyd's key store at rest and its master key: real files in a temporary
// directory. A store that was altered, truncated or written under another
// master key is refused as a whole, by KeyStoreFile and by KeyManager::Open,
// and nothing in it is used or overwritten.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/keyd/key_manager.h"
#include "services/keyd/key_store.h"
#include "services/keyd/soft_backend.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/keyd_test_util.h"

namespace rustiq::keyd {
namespace {

using test::IsError;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  unlink(path.c_str());
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  ASSERT_EQ(fchmod(fd, mode), 0);
  close(fd);
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ModeName(mode_t mode) {
  return absl::StrCat("mode 0", (mode >> 6) & 7, (mode >> 3) & 7, mode & 7);
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

SecretBytes MasterKey(char fill) {
  return SecretBytes(std::string(kMasterKeyBytes, fill));
}

// A store with two keys whose handles are real soft-backend keys.
store::StoreContents SampleContents() {
  std::unique_ptr<KeyBackend> backend = NewSoftBackend();
  store::StoreContents c;
  c.set_device_id(test::kDeviceId);
  c.set_ca_certificate_pem("-----BEGIN CERTIFICATE-----\n...");
  const std::pair<const char*, Algorithm> keys[] = {
      {"alpha", Algorithm::kEd25519}, {"beta", Algorithm::kAes256}};
  for (const auto& [name, algorithm] : keys) {
    store::StoredKey* k = c.add_keys();
    k->set_name(name);
    k->set_algorithm(ToProto(algorithm));
    k->set_backend("soft");
    k->set_creator("svc/owner");
    *k->mutable_policy() =
        CreatorOnly("svc/owner", ToProto(algorithm), /*public_only=*/false);
    k->set_current_version(1);
    k->set_next_version(2);
    store::StoredVersion* v = k->add_versions();
    v->set_version(1);
    v->set_created_unix_seconds(1700000000);
    absl::StatusOr<SecretBytes> handle = backend->Generate(algorithm, name);
    EXPECT_TRUE(handle.ok()) << handle.status();
    if (handle.ok()) v->set_handle(std::string(handle->view()));
    if (algorithm != Algorithm::kAes256 && handle.ok()) {
      absl::StatusOr<std::unique_ptr<BackendKey>> key =
          backend->Open(algorithm, *handle);
      EXPECT_TRUE(key.ok());
      if (key.ok()) v->set_public_key_der(*(*key)->PublicKeyDer());
    }
  }
  return c;
}

class KeydStoreTest : public ::testing::Test {
 protected:
  // Saves SampleContents() under master key 'm' and returns the file.
  std::string SaveSample() {
    store::StoreContents c = SampleContents();
    absl::Status s = KeyStoreFile(path_, MasterKey('m')).Save(&c).status;
    EXPECT_TRUE(s.ok()) << s;
    return rustiq::testing::ReadAll(path_);
  }
  absl::StatusOr<store::StoreContents> Load() const {
    return KeyStoreFile(path_, MasterKey('m')).Load();
  }

  rustiq::testing::TempDir dir_{"keyd-store"};
  const std::string path_ = dir_ / "keys.store";
};

TEST_F(KeydStoreTest, RoundTrips) {
  store::StoreContents c = SampleContents();
  KeyStoreFile file(path_, MasterKey('m'));
  ASSERT_TRUE(file.Save(&c).status.ok());
  EXPECT_EQ(c.generation(), 1u);
  EXPECT_EQ(ModeOf(path_), 0600u);
  std::string bytes = rustiq::testing::ReadAll(path_);
  ASSERT_GE(bytes.size(), 5u + 12 + 16);
  EXPECT_EQ(bytes.substr(0, 5), std::string("RQKS\x01", 5));
  // Nothing readable in it: not a name, not a handle.
  EXPECT_EQ(bytes.find("alpha"), std::string::npos);
  EXPECT_EQ(bytes.find("svc/owner"), std::string::npos);
  for (const store::StoredKey& k : c.keys()) {
    EXPECT_EQ(bytes.find(k.versions(0).handle()), std::string::npos);
  }

  absl::StatusOr<store::StoreContents> loaded = file.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->SerializeAsString(), c.SerializeAsString());
  EXPECT_EQ(loaded->generation(), 1u);

  // Each save counts, and uses a fresh nonce.
  ASSERT_TRUE(file.Save(&c).status.ok());
  EXPECT_EQ(c.generation(), 2u);
  std::string again = rustiq::testing::ReadAll(path_);
  EXPECT_EQ(again.size(), bytes.size());
  EXPECT_NE(again.substr(5, 12), bytes.substr(5, 12));
  loaded = file.Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->generation(), 2u);
}

TEST_F(KeydStoreTest, AnyFlippedByteIsDataLoss) {
  const std::string original = SaveSample();
  const size_t n = original.size();
  struct Case {
    size_t offset;
    const char* says;
  };
  const Case cases[] = {
      {0, "is not a rustiq key store (bad magic)"},
      {3, "bad magic"},
      {4, "has unsupported format 0"},
      {5, "fails authentication"},       // nonce
      {16, "fails authentication"},      // nonce, last byte
      {17, "fails authentication"},      // ciphertext, first byte
      {n / 2, "fails authentication"},   // middle
      {n - 17, "fails authentication"},  // ciphertext, last byte
      {n - 16, "fails authentication"},  // tag
      {n - 1, "fails authentication"},   // tag, last byte
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.offset);
    std::string altered = original;
    altered[c.offset] = static_cast<char>(altered[c.offset] ^ 0x01);
    WriteFile(path_, altered, 0600);
    EXPECT_TRUE(IsError(Load(), Code::kDataLoss,
                        {c.says, path_, "nothing in it was loaded"}));
  }
  WriteFile(path_, original, 0600);
  EXPECT_TRUE(Load().ok());
}

TEST_F(KeydStoreTest, TruncatedOrExtendedIsDataLoss) {
  const std::string original = SaveSample();
  for (size_t n : {size_t{0}, size_t{4}, size_t{5}, size_t{32}}) {
    WriteFile(path_, original.substr(0, n), 0600);
    EXPECT_TRUE(IsError(Load(), Code::kDataLoss,
                        {absl::StrCat("is truncated (", n, " bytes)")}))
        << n;
  }
  for (size_t n : {size_t{33}, size_t{34}, original.size() / 2,
                   original.size() - 16, original.size() - 1}) {
    WriteFile(path_, original.substr(0, n), 0600);
    EXPECT_TRUE(IsError(Load(), Code::kDataLoss,
                        {"fails authentication", "altered or truncated"}))
        << n;
  }
  WriteFile(path_, original + "x", 0600);
  EXPECT_TRUE(IsError(Load(), Code::kDataLoss, {"fails authentication"}));
}

TEST_F(KeydStoreTest, AnotherMasterKeyIsDataLoss) {
  SaveSample();
  EXPECT_TRUE(
      IsError(KeyStoreFile(path_, MasterKey('n')).Load(), Code::kDataLoss,
              {"fails authentication", "written under another master key"}));
  EXPECT_TRUE(Load().ok());
}

TEST_F(KeydStoreTest, MissingIsNotFoundAndOtherFilesAreRefused) {
  EXPECT_TRUE(IsError(Load(), Code::kNotFound));
  WriteFile(path_, std::string(100, 'x'), 0600);
  EXPECT_TRUE(IsError(Load(), Code::kDataLoss, {"bad magic"}));
  unlink(path_.c_str());
  ASSERT_EQ(mkdir(path_.c_str(), 0700), 0);
  EXPECT_TRUE(IsError(Load(), Code::kDataLoss, {"cannot be read"}));
  rmdir(path_.c_str());
}

TEST_F(KeydStoreTest, DestroyRemovesTheFile) {
  SaveSample();
  KeyStoreFile file(path_, MasterKey('m'));
  ASSERT_TRUE(file.Destroy().ok());
  EXPECT_FALSE(Exists(path_));
  EXPECT_TRUE(IsError(file.Load(), Code::kNotFound));
  // Missing is fine.
  EXPECT_TRUE(file.Destroy().ok());
}

TEST_F(KeydStoreTest, CleanseHandlesZeroesEveryHandle) {
  store::StoreContents c = SampleContents();
  std::vector<size_t> sizes;
  for (const store::StoredKey& k : c.keys()) {
    sizes.push_back(k.versions(0).handle().size());
  }
  CleanseHandles(&c);
  ASSERT_EQ(c.keys_size(), 2);
  for (int i = 0; i < c.keys_size(); ++i) {
    const std::string& h = c.keys(i).versions(0).handle();
    EXPECT_EQ(h.size(), sizes[static_cast<size_t>(i)]);
    EXPECT_EQ(h, std::string(h.size(), '\0'));
  }
}

// ---------------------------------------------------------------------------
// KeyManager::Open on a bad store

class KeydStoreOpenTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<KeyManager>> Open(bool create_store = true) {
    return test::OpenManager(files_, &sink_, test::CompiledKeys(),
                             create_store);
  }
  // Writes `contents` as a store under the right master key.
  void WriteStore(store::StoreContents contents) {
    absl::Status s = files_.Store()->Save(&contents).status;
    ASSERT_TRUE(s.ok()) << s;
  }

  rustiq::testing::TempDir dir_{"keyd-store-open"};
  test::KeydFiles files_{dir_};
  test::RecordingSink sink_;
};

TEST_F(KeydStoreOpenTest, TamperedStoreLoadsNothingAndIsNotOverwritten) {
  {
    absl::StatusOr<std::unique_ptr<KeyManager>> m = Open();
    ASSERT_TRUE(m.ok()) << m.status();
    v1::CreateKeyRequest r;
    r.set_name("mine");
    r.set_algorithm(v1::KEY_ALGORITHM_ED25519);
    ASSERT_TRUE((*m)->CreateKey({"svc/owner", false}, r).ok());
  }
  const std::string original = rustiq::testing::ReadAll(files_.store);
  for (size_t offset : {size_t{0}, size_t{4}, size_t{9}, original.size() / 2,
                        original.size() - 1}) {
    SCOPED_TRACE(offset);
    std::string altered = original;
    altered[offset] = static_cast<char>(altered[offset] ^ 0x20);
    WriteFile(files_.store, altered, 0600);
    size_t events = sink_.size();
    absl::StatusOr<std::unique_ptr<KeyManager>> m = Open(/*create_store=*/true);
    EXPECT_TRUE(IsError(m, Code::kDataLoss, {files_.store}));
    // Neither a fresh store nor re-created well-known keys replaced it.
    EXPECT_EQ(rustiq::testing::ReadAll(files_.store), altered);
    EXPECT_EQ(sink_.size(), events);
  }
  for (size_t n : {size_t{0}, size_t{20}, original.size() - 1}) {
    WriteFile(files_.store, original.substr(0, n), 0600);
    EXPECT_TRUE(IsError(Open(), Code::kDataLoss)) << n;
    EXPECT_EQ(rustiq::testing::ReadAll(files_.store).size(), n);
  }
  // Under another master key.
  WriteFile(files_.store, original, 0600);
  EXPECT_TRUE(
      IsError(KeyManager::Open(
                  NewSoftBackend(),
                  std::make_unique<KeyStoreFile>(files_.store, MasterKey('x')),
                  test::CompiledKeys(), test::kDeviceId, &sink_, true),
              Code::kDataLoss, {"fails authentication"}));
  // The original is intact and opens.
  absl::StatusOr<std::unique_ptr<KeyManager>> m = Open(/*create_store=*/false);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE((*m)->GetKey({"svc/owner", false}, "mine").ok());
}

TEST_F(KeydStoreOpenTest, DefectiveContentsAreRefusedByName) {
  struct Case {
    const char* what;
    std::function<void(store::StoredKey*)> damage;
    Code code;
    std::vector<absl::string_view> says;
  };
  const Case cases[] = {
      {"invalid policy",
       [](store::StoredKey* k) {
         k->mutable_policy()->mutable_grants(0)->set_caller("svc//x");
       },
       Code::kDataLoss,
       {"key alpha has an invalid policy or algorithm", "nothing was loaded"}},
      {"impossible operation",
       [](store::StoredKey* k) {
         k->mutable_policy()->mutable_grants(0)->add_operations(
             v1::KEY_OPERATION_SEAL);
       },
       Code::kDataLoss,
       {"key alpha has an invalid policy or algorithm"}},
      {"unknown algorithm",
       [](store::StoredKey* k) {
         k->set_algorithm(v1::KEY_ALGORITHM_UNSPECIFIED);
         k->clear_policy();
       },
       Code::kDataLoss,
       {"key alpha has an invalid policy or algorithm"}},
      {"another backend",
       [](store::StoredKey* k) { k->set_backend("pkcs11"); },
       Code::kFailedPrecondition,
       {"key alpha lives in backend 'pkcs11'",
        "keyd is configured with 'soft'"}},
      {"handle that does not open",
       [](store::StoredKey* k) {
         k->mutable_versions(0)->set_handle("not a key");
       },
       Code::kDataLoss,
       {"key alpha version 1 cannot be opened"}},
      {"missing current version",
       [](store::StoredKey* k) { k->set_current_version(2); },
       Code::kDataLoss,
       {"key alpha names a current version it does not have"}},
      {"no versions at all",
       [](store::StoredKey* k) { k->clear_versions(); },
       Code::kDataLoss,
       {"key alpha names a current version it does not have"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    store::StoreContents contents = SampleContents();
    c.damage(contents.mutable_keys(0));
    WriteStore(contents);
    const std::string written = rustiq::testing::ReadAll(files_.store);
    absl::StatusOr<std::unique_ptr<KeyManager>> m = Open();
    EXPECT_TRUE(IsError(m, c.code, c.says)) << (m.ok() ? "opened" : "");
    EXPECT_EQ(rustiq::testing::ReadAll(files_.store), written);
  }
  // The undamaged sample opens, and its keys work.
  WriteStore(SampleContents());
  absl::StatusOr<std::unique_ptr<KeyManager>> m = Open();
  ASSERT_TRUE(m.ok()) << m.status();
  v1::SignRequest sign;
  sign.set_name("alpha");
  sign.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
  sign.set_message("m");
  EXPECT_TRUE((*m)->Sign({"svc/owner", false}, sign).ok());
}

// ---------------------------------------------------------------------------
// The master key

class KeydMasterKeyTest : public ::testing::Test {
 protected:
  rustiq::testing::TempDir dir_{"keyd-master-key"};
  const std::string path_ = dir_ / "master.key";
};

TEST_F(KeydMasterKeyTest, CreatedReadableByItsOwnerAlone) {
  ASSERT_TRUE(CreateMasterKey(path_).ok());
  EXPECT_EQ(ModeOf(path_), 0400u);
  absl::StatusOr<SecretBytes> key = LoadMasterKey(path_);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), kMasterKeyBytes);
  EXPECT_EQ(key->view(), rustiq::testing::ReadAll(path_));
  EXPECT_NE(key->view(), std::string(kMasterKeyBytes, '\0'));
  // Another one is another key.
  ASSERT_TRUE(CreateMasterKey(dir_ / "other.key").ok());
  EXPECT_NE(rustiq::testing::ReadAll(dir_ / "other.key"), key->view());
}

TEST_F(KeydMasterKeyTest, CreateRefusesToOverwrite) {
  ASSERT_TRUE(CreateMasterKey(path_).ok());
  const std::string before = rustiq::testing::ReadAll(path_);
  absl::Status s = CreateMasterKey(path_);
  EXPECT_TRUE(
      IsError(s, Code::kAlreadyExists, {"cannot create master key", path_}));
  EXPECT_EQ(rustiq::testing::ReadAll(path_), before);
  // Nor through a symlink.
  ASSERT_EQ(symlink((dir_ / "elsewhere").c_str(), (dir_ / "link").c_str()), 0);
  EXPECT_FALSE(CreateMasterKey(dir_ / "link").ok());
  EXPECT_FALSE(Exists(dir_ / "elsewhere"));
}

TEST_F(KeydMasterKeyTest, RefusesFilesOthersCanReadOrWrite) {
  const std::string key(kMasterKeyBytes, 'k');
  for (mode_t mode : {0644, 0640, 0604, 0440, 0404, 0602, 0420}) {
    SCOPED_TRACE(ModeName(mode));
    WriteFile(path_, key, mode);
    EXPECT_TRUE(IsError(LoadMasterKey(path_), Code::kFailedPrecondition,
                        {path_, "readable by its owner alone (chmod 0400)"}));
  }
  for (mode_t mode : {0400, 0600}) {
    SCOPED_TRACE(ModeName(mode));
    WriteFile(path_, key, mode);
    absl::StatusOr<SecretBytes> loaded = LoadMasterKey(path_);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->view(), key);
  }
}

TEST_F(KeydMasterKeyTest, RefusesTheWrongLength) {
  WriteFile(path_, std::string(16, 'k'), 0400);
  EXPECT_TRUE(IsError(LoadMasterKey(path_), Code::kFailedPrecondition,
                      {"must hold exactly 32 bytes, it holds 16"}));
  WriteFile(path_, std::string(31, 'k'), 0400);
  EXPECT_TRUE(IsError(LoadMasterKey(path_), Code::kFailedPrecondition,
                      {"exactly 32 bytes"}));
  WriteFile(path_, std::string(33, 'k'), 0400);
  EXPECT_TRUE(IsError(LoadMasterKey(path_), Code::kFailedPrecondition,
                      {"it holds 33"}));
  WriteFile(path_, "", 0400);
  EXPECT_TRUE(
      IsError(LoadMasterKey(path_), Code::kFailedPrecondition, {"it holds 0"}));
}

TEST_F(KeydMasterKeyTest, MissingSymlinkOrDirectoryIsRefused) {
  EXPECT_TRUE(IsError(
      LoadMasterKey(path_), Code::kNotFound,
      {path_, "does not exist", "provision the device", "keyd-master-key"}));
  WriteFile(dir_ / "real.key", std::string(kMasterKeyBytes, 'k'), 0400);
  ASSERT_EQ(symlink((dir_ / "real.key").c_str(), path_.c_str()), 0);
  absl::StatusOr<SecretBytes> linked = LoadMasterKey(path_);
  EXPECT_FALSE(linked.ok());
  EXPECT_THAT(std::string(linked.status().message()), HasSubstr(path_));
  unlink(path_.c_str());
  ASSERT_EQ(mkdir(path_.c_str(), 0700), 0);
  EXPECT_TRUE(IsError(LoadMasterKey(path_), Code::kFailedPrecondition,
                      {"must be a regular file"}));
}

TEST_F(KeydMasterKeyTest, ReadPrivateFileBoundsItsSize) {
  WriteFile(path_, "1234\n", 0400);
  absl::StatusOr<SecretBytes> pin = ReadPrivateFile(path_, "PIN file", 8);
  ASSERT_TRUE(pin.ok()) << pin.status();
  EXPECT_EQ(pin->view(), "1234\n");
  EXPECT_TRUE(IsError(ReadPrivateFile(path_, "PIN file", 4),
                      Code::kFailedPrecondition,
                      {"PIN file", "must hold 1-4 bytes, it holds 5"}));
  EXPECT_TRUE(IsError(ReadPrivateFile(dir_ / "none", "PIN file", 8),
                      Code::kNotFound, {"PIN file", "does not exist"}));
}

}  // namespace
}  // namespace rustiq::keyd
