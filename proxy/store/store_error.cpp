#include "store/store_error.hpp"

#include <string>

namespace oi::store {
namespace {

class store_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "oi.store"; }

    std::string message(int value) const override
    {
        switch (static_cast<store_errc>(value)) {
        case store_errc::unavailable:
            return "store unavailable";
        case store_errc::timeout:
            return "store command timed out";
        case store_errc::corrupt_record:
            return "stored record cannot be opened";
        case store_errc::unknown_key:
            return "stored record uses an unknown encryption key id";
        case store_errc::server_error:
            return "store answered with an error";
        case store_errc::unexpected_reply:
            return "store answered with an unexpected reply type";
        case store_errc::auth_failed:
            return "store refused authentication or database selection";
        case store_errc::stopped:
            return "store client stopped";
        case store_errc::not_primary:
            return "store node is not the primary";
        case store_errc::not_replicated:
            return "store write not acknowledged by enough replicas";
        }
        return "unknown store error";
    }
};

} // namespace

const boost::system::error_category& store_category() noexcept
{
    static const store_category_impl k_instance;
    return k_instance;
}

} // namespace oi::store
