#include "services/notification/secret_sealer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace suishin::notification {
namespace {

constexpr absl::string_view kSealedPrefix = "sealed:v1:";
constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    // Without randomness no key or nonce is safe: stop rather than go on.
    std::fputs("secret_sealer: RAND_bytes failed\n", stderr);
    std::abort();
  }
  return bytes;
}

const unsigned char* Bytes(absl::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

absl::StatusOr<SecretSealer> SecretSealer::FromKey(absl::string_view key) {
  if (key.size() != kKeyBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("a webhook secret key is ", kKeyBytes, " bytes (got ", key.size(), ")"));
  }
  return SecretSealer(std::string(key));
}

absl::StatusOr<SecretSealer> SecretSealer::LoadOrCreate(const std::string& path) {
  auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("--webhook_secret_key_file=\"", path, "\": ", why));
  };
  const int existing = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (existing < 0) {
    if (errno != ENOENT) return refuse(std::strerror(errno));
    const std::string key = RandomBytes(kKeyBytes);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return refuse(absl::StrCat("cannot create it: ", std::strerror(errno)));
    const std::string text = absl::StrCat(absl::Base64Escape(key), "\n");
    const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const bool synced = fsync(fd) == 0;
    close(fd);
    if (!written || !synced) return refuse("cannot write it");
    return SecretSealer(key);
  }
  std::string text;
  char buffer[256];
  ssize_t got = 0;
  while ((got = read(existing, buffer, sizeof(buffer))) > 0 && text.size() < 4096) {
    text.append(buffer, static_cast<size_t>(got));
  }
  close(existing);
  if (got < 0) return refuse(std::strerror(errno));
  std::string key;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(text), &key) || key.size() != kKeyBytes) {
    return refuse(
        absl::StrCat("want the base64 of ", kKeyBytes, " random bytes (openssl rand -base64 32)"));
  }
  return SecretSealer(std::move(key));
}

bool SecretSealer::IsSealed(absl::string_view text) {
  return absl::StartsWith(text, kSealedPrefix);
}

std::string SecretSealer::Seal(absl::string_view id, absl::string_view secret) const {
  const std::string nonce = RandomBytes(kNonceBytes);
  std::string out = nonce;
  out.resize(kNonceBytes + secret.size() + kTagBytes);
  CipherContext context(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int length = 0;
  unsigned char* cipher = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
  const bool ok = context != nullptr &&
                  EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                                     Bytes(nonce)) == 1 &&
                  EVP_EncryptUpdate(context.get(), nullptr, &length, Bytes(id),
                                    static_cast<int>(id.size())) == 1 &&
                  EVP_EncryptUpdate(context.get(), cipher, &length, Bytes(secret),
                                    static_cast<int>(secret.size())) == 1 &&
                  EVP_EncryptFinal_ex(context.get(), cipher + length, &length) == 1 &&
                  EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                      cipher + secret.size()) == 1;
  if (!ok) {
    // AES-GCM with a valid key does not fail short of memory running out.
    std::fputs("secret_sealer: AES-256-GCM failed\n", stderr);
    std::abort();
  }
  return absl::StrCat(kSealedPrefix, absl::Base64Escape(out));
}

absl::StatusOr<std::string> SecretSealer::Unseal(absl::string_view id,
                                                 absl::string_view sealed) const {
  auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("webhook \"", id, "\": its secret ", why,
                     " (is --webhook_secret_key_file the key it was sealed with?)"));
  };
  std::string bytes;
  if (!absl::ConsumePrefix(&sealed, kSealedPrefix) || !absl::Base64Unescape(sealed, &bytes) ||
      bytes.size() < kNonceBytes + kTagBytes) {
    return refuse("is not sealed text");
  }
  const absl::string_view nonce = absl::string_view(bytes).substr(0, kNonceBytes);
  const absl::string_view cipher =
      absl::string_view(bytes).substr(kNonceBytes, bytes.size() - kNonceBytes - kTagBytes);
  std::string tag(bytes.substr(bytes.size() - kTagBytes));
  std::string secret(cipher.size(), '\0');
  CipherContext context(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int length = 0;
  unsigned char* plain = reinterpret_cast<unsigned char*>(secret.data());
  const bool ok =
      context != nullptr &&
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), Bytes(nonce)) ==
          1 &&
      EVP_DecryptUpdate(context.get(), nullptr, &length, Bytes(id), static_cast<int>(id.size())) ==
          1 &&
      EVP_DecryptUpdate(context.get(), plain, &length, Bytes(cipher),
                        static_cast<int>(cipher.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(context.get(), plain + length, &length) == 1;
  if (!ok) return refuse("does not open");
  return secret;
}

absl::Status SecretSealer::UnsealWebhook(v1::Webhook& webhook) const {
  absl::StatusOr<std::string> secret = Unseal(webhook.id(), webhook.secret());
  if (!secret.ok()) return secret.status();
  *webhook.mutable_secret() = *std::move(secret);
  if (!webhook.previous_secret().empty()) {
    absl::StatusOr<std::string> previous = Unseal(webhook.id(), webhook.previous_secret());
    if (!previous.ok()) return previous.status();
    *webhook.mutable_previous_secret() = *std::move(previous);
  }
  return absl::OkStatus();
}

}  // namespace suishin::notification
