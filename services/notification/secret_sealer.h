// SecretSealer: webhook signing secrets sealed at rest (DESIGN.md §7).
//
// A webhook's secret is what a receiver trusts an alert by, so the store
// never holds it in the clear: it holds "sealed:v1:" + base64(nonce ‖
// ciphertext ‖ tag), AES-256-GCM under a key read from a file
// (--webhook_secret_key_file), with the webhook's id as associated data, so
// a sealed secret copied onto another webhook does not open. Someone with
// the database file alone learns nothing of the secrets; with the key file
// too, everything.
//
// The key file holds 32 random bytes in base64 (what `openssl rand -base64
// 32` prints); LoadOrCreate makes one (mode 0600) when the file does not
// exist yet. OpenSSL does the cryptography.
//
// Thread-safe: Seal and Unseal may be called from any thread.
//
// Example:
//   ASSIGN_OR_RETURN(SecretSealer sealer, SecretSealer::LoadOrCreate("/etc/suishin/webhook.key"));
//   const std::string stored = sealer.Seal(webhook.id(), webhook.secret());
//   ASSIGN_OR_RETURN(std::string secret, sealer.Unseal(webhook.id(), stored));
#ifndef SUISHIN_SERVICES_NOTIFICATION_SECRET_SEALER_H_
#define SUISHIN_SERVICES_NOTIFICATION_SECRET_SEALER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

class SecretSealer {
 public:
  // The key in the file at `path`, or a new one written there (0600) when
  // there is no such file. FAILED_PRECONDITION naming the path when the file
  // cannot be read or written, or holds no base64 of 32 bytes.
  static absl::StatusOr<SecretSealer> LoadOrCreate(const std::string& path);
  // A sealer with `key` (32 bytes), for tests.
  static absl::StatusOr<SecretSealer> FromKey(absl::string_view key);

  // True when `text` is a sealed secret (starts "sealed:v1:").
  static bool IsSealed(absl::string_view text);

  // `secret` sealed for the webhook `id` (a fresh nonce each time).
  std::string Seal(absl::string_view id, absl::string_view secret) const;
  // The secret `sealed` holds. FAILED_PRECONDITION when it is not sealed
  // text, or does not open with this key and `id` (another key file, or a
  // sealed secret of another webhook), without repeating any of it.
  absl::StatusOr<std::string> Unseal(absl::string_view id, absl::string_view sealed) const;

  // The webhook's secret (and previous secret, when it has one) unsealed in
  // place, as a store reads it back; the store sealed them with Seal.
  absl::Status UnsealWebhook(v1::Webhook& webhook) const;

 private:
  explicit SecretSealer(std::string key) : key_(std::move(key)) {}
  std::string key_;  // 32 bytes
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_SECRET_SEALER_H_
