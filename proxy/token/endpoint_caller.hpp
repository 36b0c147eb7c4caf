#pragma once

// The production token_caller: the refresh-token grant (RFC 6749 section 6) sent with
// oauth::request_token over a worker's upstream connector, so the token endpoint is reached under
// the same destination policy and TLS verification as plugin traffic.
//
// Ownership and threads: the returned caller holds a reference to `connector`, which must outlive
// it; call it only on the connector's io_context. Errors come back inside the token_outcome.

#include "token/refresh_flight.hpp"
#include "upstream/connector.hpp"

namespace oi::token {

[[nodiscard]] token_caller make_endpoint_caller(upstream::connector& connector);

} // namespace oi::token
