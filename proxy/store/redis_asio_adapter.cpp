#include "store/redis_asio_adapter.hpp"

#include <boost/asio/post.hpp>
#include <hiredis/async.h>

#include <poll.h>

namespace oi::store::detail {
namespace {

/// Whether `fd` is ready for `events` right now (errors and hang-ups count as ready, so that
/// hiredis sees them).
bool ready_now(int fd, short events)
{
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, 0) > 0 && p.revents != 0;
}

redis_asio_adapter* from(void* self)
{
    return static_cast<redis_asio_adapter*>(self);
}

} // namespace

std::shared_ptr<redis_asio_adapter> redis_asio_adapter::attach(boost::asio::io_context& io,
                                                               redisAsyncContext* context)
{
    auto adapter = std::make_shared<redis_asio_adapter>(io, context);
    boost::system::error_code ec;
    adapter->descriptor_.assign(context->c.fd, ec);
    if (ec) {
        adapter->context_ = nullptr;
        return nullptr;
    }

    context->ev.data = adapter.get();
    context->ev.addRead = &on_add_read;
    context->ev.delRead = &on_del_read;
    context->ev.addWrite = &on_add_write;
    context->ev.delWrite = &on_del_write;
    context->ev.cleanup = &on_cleanup;
    return adapter;
}

redis_asio_adapter::redis_asio_adapter(boost::asio::io_context& io, redisAsyncContext* context)
    : io_(io), context_(context), descriptor_(io)
{}

redis_asio_adapter::~redis_asio_adapter()
{
    detach();
}

void redis_asio_adapter::on_add_read(void* self)
{
    from(self)->want_read_ = true;
    from(self)->arm(direction::read);
}

void redis_asio_adapter::on_del_read(void* self)
{
    from(self)->want_read_ = false;
}

void redis_asio_adapter::on_add_write(void* self)
{
    from(self)->want_write_ = true;
    from(self)->arm(direction::write);
}

void redis_asio_adapter::on_del_write(void* self)
{
    from(self)->want_write_ = false;
}

void redis_asio_adapter::on_cleanup(void* self)
{
    from(self)->detach();
}

void redis_asio_adapter::arm(direction d)
{
    // One wait per direction at a time; a wait that ends when hiredis no longer wants the
    // direction is simply dropped.
    bool& armed = d == direction::read ? read_armed_ : write_armed_;
    if (armed || !context_) {
        return;
    }
    armed = true;

    auto handler = [self = shared_from_this(), d](boost::system::error_code ec) {
        self->on_ready(d, ec);
    };
    const short events = d == direction::read ? POLLIN : POLLOUT;
    if (ready_now(descriptor_.native_handle(), events)) {
        boost::asio::post(io_, [handler]() { handler({}); });
        return;
    }
    descriptor_.async_wait(d == direction::read ? boost::asio::posix::descriptor_base::wait_read
                                                : boost::asio::posix::descriptor_base::wait_write,
                           std::move(handler));
}

void redis_asio_adapter::on_ready(direction d, boost::system::error_code ec)
{
    (d == direction::read ? read_armed_ : write_armed_) = false;
    const bool wanted = d == direction::read ? want_read_ : want_write_;
    if (ec || !context_ || !wanted) {
        return;
    }

    // hiredis may free the context inside these calls; `detach` then clears context_.
    if (d == direction::read) {
        redisAsyncHandleRead(context_);
    } else {
        redisAsyncHandleWrite(context_);
    }

    // Level-triggered semantics: keep waiting while hiredis still wants the direction.
    if (context_ && (d == direction::read ? want_read_ : want_write_)) {
        arm(d);
    }
}

void redis_asio_adapter::detach()
{
    if (context_) {
        context_->ev.data = nullptr;
        context_->ev.addRead = nullptr;
        context_->ev.delRead = nullptr;
        context_->ev.addWrite = nullptr;
        context_->ev.delWrite = nullptr;
        context_->ev.cleanup = nullptr;
        context_ = nullptr;
    }
    want_read_ = want_write_ = false;

    // Cancels pending waits and gives the socket back: hiredis closes it.
    if (descriptor_.is_open()) {
        descriptor_.release();
    }
}

} // namespace oi::store::detail
