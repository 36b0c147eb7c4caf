#pragma once

// Drives one hiredis asynchronous context (redisAsyncContext) from an Asio io_context: it
// implements hiredis's event hooks (addRead/delRead/addWrite/delWrite/cleanup) with a
// posix::stream_descriptor that wraps the context's socket without owning it (hiredis closes
// the socket; the adapter releases it from Asio first, in `cleanup`).
//
// Asio's epoll reactor is edge-triggered and does not re-check readiness when a wait starts,
// while hiredis reads or writes at most one buffer per event. So before each wait the adapter
// polls the socket (timeout 0) and, when it is already ready, posts the handling instead of
// waiting. This is correct only because the io_context is run by a single thread: no epoll_wait
// can consume the readiness edge between that poll and the start of the wait.
//
// Ownership and threads: created by redis_client for each connection attempt and kept alive by
// it (through shared_ptr) until the context is freed; pending waits hold a shared_ptr too. All
// hooks and handlers run on the io_context's single thread. hiredis is never re-entered from a
// hook: socket events are always delivered through the io_context. Errors: none of its own;
// socket errors reach hiredis through its read/write handlers.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>

struct redisAsyncContext;

namespace oi::store::detail {

class redis_asio_adapter : public std::enable_shared_from_this<redis_asio_adapter> {
public:
    /// Installs the hooks on `context` (whose socket must be open). Call before setting
    /// hiredis's connect callback, which asks for the first write event. Null when the socket
    /// cannot be registered with the io_context (the caller then frees the context).
    static std::shared_ptr<redis_asio_adapter> attach(boost::asio::io_context& io,
                                                      redisAsyncContext* context);

    redis_asio_adapter(boost::asio::io_context& io, redisAsyncContext* context);
    ~redis_asio_adapter();

    redis_asio_adapter(const redis_asio_adapter&) = delete;
    redis_asio_adapter& operator=(const redis_asio_adapter&) = delete;

private:
    enum class direction { read, write };

    static void on_add_read(void* self);
    static void on_del_read(void* self);
    static void on_add_write(void* self);
    static void on_del_write(void* self);
    static void on_cleanup(void* self);

    void arm(direction d);
    void on_ready(direction d, boost::system::error_code ec);
    void detach();

    boost::asio::io_context& io_;
    redisAsyncContext* context_; // null once hiredis has cleaned up
    boost::asio::posix::stream_descriptor descriptor_;
    bool want_read_ = false;
    bool want_write_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
};

} // namespace oi::store::detail
