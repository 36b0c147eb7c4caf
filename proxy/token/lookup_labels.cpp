// Names of a grant lookup's outcome and steps, as the debug log writes them (README "Logging").

#include "token/grant_service.hpp"

namespace oi::token {

std::string_view label(lookup_status s) noexcept
{
    switch (s) {
    case lookup_status::found:
        return "found";
    case lookup_status::missing:
        return "missing";
    case lookup_status::store_unavailable:
        return "store_unavailable";
    }
    return "missing";
}

std::string_view label(grant_source s) noexcept
{
    switch (s) {
    case grant_source::cache:
        return "cache";
    case grant_source::store:
        return "store";
    case grant_source::shared_load:
        return "shared_load";
    }
    return "cache";
}

std::string_view label(refresh_step s) noexcept
{
    switch (s) {
    case refresh_step::none:
        return "none";
    case refresh_step::backing_off:
        return "backing_off";
    case refresh_step::started:
        return "started";
    case refresh_step::joined:
        return "joined";
    }
    return "none";
}

} // namespace oi::token
