// ArenaMessages: a gRPC MessageAllocator that puts a callback unary call's
// request and response on one protobuf Arena, freed whole when the call is
// done.
//
// A read that copies a kept answer into its response (kpi-service's read
// model) then allocates by bumping a pointer in a block the holder carries
// inline, and frees nothing field by field: the copy and the teardown that
// otherwise cost more than the lookup.
//
// Thread-safe (each call gets its own holder). Register it for a method of
// a callback service, and keep it alive as long as the server:
//   ArenaMessages<GetProgressRequest, GetProgressResponse> progress_messages_;
//   SetMessageAllocatorFor_GetProgress(&progress_messages_);
#ifndef SUISHIN_COMMON_ARENA_MESSAGES_H_
#define SUISHIN_COMMON_ARENA_MESSAGES_H_

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

#include <cstddef>

namespace suishin {

template <typename Request, typename Response>
class ArenaMessages : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  // The first block lives in the holder: a typical answer (a KPI's series in
  // one region) fits, so the call makes one allocation in all.
  static constexpr size_t kInlineBytes = 16 * 1024;

  class Holder : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options(block_)) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kInlineBytes;
      return options;
    }

    alignas(std::max_align_t) char block_[kInlineBytes];
    google::protobuf::Arena arena_;
  };
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_ARENA_MESSAGES_H_
