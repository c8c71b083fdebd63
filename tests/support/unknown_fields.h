// Messages as a client built on a newer proto sends them, for the tests that
// show a service never stores a field it does not know.
//
// Example:
//   v1::CreateKpiRequest request = WithUnknownField(Good());   // field 99 added
//   ... call, read back ...
//   EXPECT_FALSE(HasUnknownFields(stored));
#ifndef SUISHIN_TESTS_SUPPORT_UNKNOWN_FIELDS_H_
#define SUISHIN_TESTS_SUPPORT_UNKNOWN_FIELDS_H_

#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <string>

namespace suishin::testing {

// `message`'s bytes with field 99 appended — a varint 7, or, when `bytes` is
// given, a length-delimited field of that many bytes — parsed back as the
// real type, which keeps the field as unknown.
template <typename T>
T WithUnknownField(const T& message, size_t bytes = 0) {
  std::string wire = message.SerializeAsString();
  if (bytes == 0) {
    wire.append("\x98\x06\x07", 3);  // tag (99 << 3 | varint) = 0x318, then 7
  } else {
    wire.append("\x9a\x06", 2);  // tag (99 << 3 | length-delimited) = 0x31a
    for (uint64_t n = bytes;; n >>= 7) {
      wire.push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
      if (n < 0x80) break;
    }
    wire.append(bytes, 'u');
  }
  T parsed;
  EXPECT_TRUE(parsed.ParseFromString(wire));
  EXPECT_FALSE(parsed.GetReflection()->GetUnknownFields(parsed).empty());
  return parsed;
}

// True when `message` or any message inside it carries unknown fields.
bool HasUnknownFields(const google::protobuf::Message& message);

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_UNKNOWN_FIELDS_H_
