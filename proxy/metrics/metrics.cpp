#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <map>

namespace oi::metrics {

namespace {

constexpr std::string_view k_prefix = "oauth_injector_";
constexpr std::string_view k_unknown_plugin = "unknown";
constexpr std::string_view k_no_connection = "none";

constexpr std::array<std::string_view, 3> k_cache_labels{"hit", "miss", "stale"};
constexpr std::array<std::string_view, 4> k_refresh_labels{"success", "invalid_grant", "error",
                                                           "skipped"};
constexpr std::array<std::string_view, 6> k_store_labels{"load", "save", "remove",
                                                         "ping", "lock", "state"};
constexpr std::array<std::string_view, 3> k_listener_labels{"proxy", "public", "admin"};
constexpr std::array<std::string_view, 2> k_reload_labels{"success", "failure"}; // retries too
constexpr std::array<std::string_view, 3> k_upstream_labels{"new", "reused", "failed"};
constexpr std::array<std::string_view, 8> k_authorization_labels{
    "started",         "connected",    "denied",        "provider_error",
    "exchange_failed", "invalid_link", "invalid_state", "store_error"};
constexpr std::array<std::string_view, 2> k_revocation_labels{"revoked", "failed"};

// request_duration_seconds is labelled by the class of the outcome only, to keep it small.
constexpr std::size_t k_class_forwarded = 0;
constexpr std::size_t k_class_refused = 1;
constexpr std::size_t k_class_client_error = 2;

template <typename E, std::size_t n>
std::string_view pick(const std::array<std::string_view, n>& labels, E e) noexcept
{
    const auto i = static_cast<std::size_t>(e);
    return i < n ? labels[i] : std::string_view("invalid");
}

std::string full_name(std::string_view name)
{
    return std::string(k_prefix) + std::string(name);
}

prometheus::Family<prometheus::Counter>&
counter_family(prometheus::Registry& r, std::string_view name, std::string_view help)
{
    return prometheus::BuildCounter().Name(full_name(name)).Help(std::string(help)).Register(r);
}

template <std::size_t n, typename Metric>
void add_each(prometheus::Family<Metric>& family, std::string_view label_name,
              const std::array<std::string_view, n>& values, std::array<Metric*, n>& out)
{
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = &family.Add({{std::string(label_name), std::string(values[i])}});
    }
}

std::vector<std::string> as_strings(std::initializer_list<std::string_view> values)
{
    return {values.begin(), values.end()};
}

template <std::size_t n>
std::vector<std::string> as_strings(const std::array<std::string_view, n>& a)
{
    return {a.begin(), a.end()};
}

void bump(prometheus::Counter* c) noexcept
{
    if (c != nullptr) {
        c->Increment();
    }
}

template <typename Map> std::vector<std::string> keys_of(const Map& map)
{
    std::vector<std::string> keys;
    keys.reserve(map.size());
    for (const auto& [key, value] : map) {
        keys.push_back(key);
    }
    return keys;
}

/// One series per connection (and `none` when `with_none`) x result, connection-major.
template <std::size_t n>
std::vector<prometheus::Counter*> per_connection(prometheus::Family<prometheus::Counter>& family,
                                                 std::vector<std::string> ids, bool with_none,
                                                 const std::array<std::string_view, n>& results)
{
    if (with_none) {
        ids.emplace_back(k_no_connection);
    }
    std::vector<prometheus::Counter*> out;
    out.reserve(ids.size() * n);
    for (const std::string& connection : ids) {
        for (const std::string_view result : results) {
            out.push_back(
                &family.Add({{"connection", connection}, {"result", std::string(result)}}));
        }
    }
    return out;
}

} // namespace

struct metrics::label_table {
    using index = std::map<std::string, std::size_t, std::less<>>;
    index plugin_rows;     // each configured plugin's current row in `requests`
    index pair_rows;       // "plugin\nconnection" -> row; row 0 is the unknown plugin
    index connection_rows; // each connection ever configured -> its row in `refresh`
    std::vector<prometheus::Counter*> requests;   // [row * outcome::k_count + outcome]
    std::vector<prometheus::Counter*> refresh;    // [row * refresh results + result]
    std::vector<prometheus::Counter*> lock_waits; // [row]
};

std::string_view label(cache_result r) noexcept
{
    return pick(k_cache_labels, r);
}
std::string_view label(refresh_result r) noexcept
{
    return pick(k_refresh_labels, r);
}
std::string_view label(store_op op) noexcept
{
    return pick(k_store_labels, op);
}
std::string_view label(listener l) noexcept
{
    return pick(k_listener_labels, l);
}
std::string_view label(reload_result r) noexcept
{
    return pick(k_reload_labels, r);
}
std::string_view label(upstream_connection r) noexcept
{
    return pick(k_upstream_labels, r);
}

std::string_view label(authorization_result r) noexcept
{
    return pick(k_authorization_labels, r);
}

std::string_view label(outcome o) noexcept
{
    if (o.index() == outcome::forwarded().index()) {
        return "forwarded";
    }
    if (o.index() == outcome::client_error().index()) {
        return "client_error";
    }
    return refusal_code(static_cast<refusal>(o.index() - 2));
}

metrics::metrics(const config::config& cfg)
    : registry_(std::make_shared<prometheus::Registry>()),
      request_duration_(full_name("request_duration_seconds"),
                        "Time from a proxy request's head to the end of its response",
                        latency_buckets(), "outcome",
                        as_strings({"forwarded", "refused", "client_error"})),
      upstream_duration_(full_name("upstream_duration_seconds"),
                         "Time from sending a request upstream to its response head",
                         latency_buckets()),
      store_duration_(full_name("store_duration_seconds"), "Round-trip time of store operations",
                      store_buckets(), "operation", as_strings(k_store_labels)),
      refresh_duration_(full_name("token_refresh_duration_seconds"),
                        "Time one token refresh took, waiting for another owner's lock included",
                        latency_buckets(), "connection", keys_of(cfg.connections)),
      lock_wait_duration_(full_name("token_refresh_lock_wait_seconds"),
                          "Time a token refresh waited for another owner's refresh lock",
                          latency_buckets(), "connection", keys_of(cfg.connections))
{
    prometheus::Registry& r = *registry_;

    requests_family_ = &counter_family(r, "requests_total", "Proxy requests by plugin and outcome");
    refresh_family_ = &counter_family(r, "token_refresh_total", "Token refreshes by result");
    lock_waits_family_ = &counter_family(r, "token_refresh_lock_waits_total",
                                         "Token refreshes that found another owner's refresh lock");
    add_config(cfg);

    // The authorization flow's series cover the start-up connections, in their row order; a
    // connection added by a reload counts under `none` (the public listener serves the start-up
    // configuration anyway).
    std::vector<std::string> flow_ids(table().connection_rows.size());
    for (const auto& [id, row] : table().connection_rows) {
        flow_ids[row] = id;
    }
    flow_connections_ = flow_ids.size();
    authorizations_ = per_connection(
        counter_family(r, "authorizations_total", "End-user authorizations by outcome"), flow_ids,
        true, k_authorization_labels);
    revocations_ = per_connection(
        counter_family(r, "token_revocations_total", "Token revocations at disconnect"),
        std::move(flow_ids), false, k_revocation_labels);

    add_each(counter_family(r, "token_cache_lookups_total", "In-process grant cache lookups"),
             "result", k_cache_labels, cache_);
    add_each(counter_family(r, "store_errors_total", "Store operations that failed"), "operation",
             k_store_labels, store_errors_);
    add_each(counter_family(r, "store_retries_total",
                            "Idempotent store commands sent again after a failover, by result"),
             "result", k_reload_labels, store_retries_);
    add_each(prometheus::BuildGauge()
                 .Name(full_name("active_connections"))
                 .Help("Open client connections by listener")
                 .Register(r),
             "listener", k_listener_labels, active_);
    certificates_ = &counter_family(r, "intercept_certificates_issued_total",
                                    "Leaf certificates issued for intercepted CONNECT tunnels")
                         .Add({});
    add_each(counter_family(r, "config_reloads_total", "Configuration reloads by result"), "result",
             k_reload_labels, reloads_);
    add_each(counter_family(r, "upstream_connections_total",
                            "Upstream connections: opened, taken from the pool, or failed"),
             "result", k_upstream_labels, upstream_connections_);

    std::array<std::string_view, k_refusal_count> codes{};
    for (std::size_t i = 0; i < k_refusal_count; ++i) {
        codes[i] = refusal_code(static_cast<refusal>(i));
    }
    add_each(counter_family(r, "refusals_total", "Responses the proxy made itself, by code"),
             "code", codes, refusals_);
}

metrics::~metrics() = default;

const metrics::label_table& metrics::table() const noexcept
{
    return *table_.load(std::memory_order_acquire);
}

std::size_t metrics::plugin_index(std::string_view plugin_id) const noexcept
{
    const auto& rows = table().plugin_rows;
    const auto it = rows.find(plugin_id);
    return it == rows.end() ? unknown_plugin() : it->second;
}

std::size_t metrics::connection_index(std::string_view connection_id) const noexcept
{
    const auto& rows = table().connection_rows;
    const auto it = rows.find(connection_id);
    return it == rows.end() ? no_connection() : it->second;
}

void metrics::add_config(const config::config& cfg)
{
    const std::lock_guard lock{tables_mutex_};
    const label_table* current = table_.load(std::memory_order_acquire);
    auto next = current != nullptr ? std::make_unique<label_table>(*current)
                                   : std::make_unique<label_table>();
    if (current == nullptr) {
        add_request_row(*next, std::string{k_unknown_plugin}, std::string{k_no_connection});
    }

    // The current row of each configured plugin: its (plugin, connection) pair, new or seen.
    next->plugin_rows.clear();
    for (const auto& [id, plugin] : cfg.plugins) {
        next->plugin_rows.emplace(id, add_request_row(*next, id, plugin.connection_id));
    }
    for (const auto& [id, connection] : cfg.connections) {
        if (next->connection_rows.contains(id)) {
            continue;
        }
        next->connection_rows.emplace(id, next->refresh.size() / k_refresh_labels.size());
        for (const std::string_view result : k_refresh_labels) {
            next->refresh.push_back(
                &refresh_family_->Add({{"connection", id}, {"result", std::string(result)}}));
        }
        next->lock_waits.push_back(&lock_waits_family_->Add({{"connection", id}}));
    }

    table_.store(next.get(), std::memory_order_release);
    tables_.push_back(std::move(next));
}

std::size_t metrics::add_request_row(label_table& t, const std::string& plugin,
                                     const std::string& connection)
{
    const std::string pair = plugin + '\n' + connection;
    if (const auto it = t.pair_rows.find(pair); it != t.pair_rows.end()) {
        return it->second;
    }
    const std::size_t row = t.requests.size() / outcome::k_count;
    for (std::size_t o = 0; o < outcome::k_count; ++o) {
        const std::string_view outcome_label =
            o == 0 ? "forwarded"
                   : (o == 1 ? "client_error" : refusal_code(static_cast<refusal>(o - 2)));
        t.requests.push_back(&requests_family_->Add({{"plugin", plugin},
                                                     {"connection", connection},
                                                     {"outcome", std::string(outcome_label)}}));
    }
    t.pair_rows.emplace(pair, row);
    return row;
}

void metrics::request_done(std::size_t plugin, outcome o, double seconds) noexcept
{
    const auto& requests = table().requests;
    const std::size_t i = plugin * outcome::k_count + o.index();
    if (o.index() >= outcome::k_count || i >= requests.size()) {
        return;
    }
    bump(requests[i]);

    if (o.is_refusal()) {
        bump(refusals_[o.index() - 2]);
    }
    const std::size_t cls = o.index() == outcome::forwarded().index() ? k_class_forwarded
                            : o.is_refusal()                          ? k_class_refused
                                                                      : k_class_client_error;
    request_duration_.observe(cls, seconds);
}

void metrics::upstream_response(double seconds) noexcept
{
    upstream_duration_.observe(0, seconds);
}

void metrics::upstream_connection_used(upstream_connection r) noexcept
{
    const auto i = static_cast<std::size_t>(r);
    bump(i < upstream_connections_.size() ? upstream_connections_[i] : nullptr);
}

void metrics::token_refresh(std::size_t connection, refresh_result r) noexcept
{
    const auto& refresh = table().refresh;
    if (connection == no_connection() || static_cast<std::size_t>(r) >= k_refresh_labels.size()) {
        return;
    }
    const auto i = connection * k_refresh_labels.size() + static_cast<std::size_t>(r);
    bump(i < refresh.size() ? refresh[i] : nullptr);
}

void metrics::token_refresh_duration(std::size_t connection, double seconds) noexcept
{
    refresh_duration_.observe(connection, seconds);
}

void metrics::token_refresh_lock_wait(std::size_t connection, double seconds) noexcept
{
    const auto& lock_waits = table().lock_waits;
    bump(connection < lock_waits.size() ? lock_waits[connection] : nullptr);
    lock_wait_duration_.observe(connection, seconds);
}

void metrics::authorization(std::size_t connection, authorization_result r) noexcept
{
    const auto i = std::min(connection, flow_connections_) * k_authorization_labels.size() +
                   static_cast<std::size_t>(r);
    bump(i < authorizations_.size() ? authorizations_[i] : nullptr);
}

void metrics::revocation(std::size_t connection, revocation_result r) noexcept
{
    const auto i = connection * k_revocation_labels.size() + static_cast<std::size_t>(r);
    bump(connection < flow_connections_ && i < revocations_.size() ? revocations_[i] : nullptr);
}

void metrics::cache_lookup(cache_result r) noexcept
{
    const auto i = static_cast<std::size_t>(r);
    bump(i < cache_.size() ? cache_[i] : nullptr);
}

void metrics::store_call(store_op op, double seconds) noexcept
{
    store_duration_.observe(static_cast<std::size_t>(op), seconds);
}

void metrics::store_error(store_op op) noexcept
{
    const auto i = static_cast<std::size_t>(op);
    bump(i < store_errors_.size() ? store_errors_[i] : nullptr);
}

void metrics::connection_opened(listener l) noexcept
{
    const auto i = static_cast<std::size_t>(l);
    if (i < active_.size()) {
        active_[i]->Increment();
    }
}

void metrics::connection_closed(listener l) noexcept
{
    const auto i = static_cast<std::size_t>(l);
    if (i < active_.size()) {
        active_[i]->Decrement();
    }
}

void metrics::certificate_issued() noexcept
{
    bump(certificates_);
}

void metrics::config_reload(reload_result r) noexcept
{
    const auto i = static_cast<std::size_t>(r);
    bump(i < reloads_.size() ? reloads_[i] : nullptr);
}

void metrics::store_retry(retry_result r) noexcept
{
    const auto i = static_cast<std::size_t>(r);
    bump(i < store_retries_.size() ? store_retries_[i] : nullptr);
}

void metrics::refused(refusal r) noexcept
{
    const auto i = static_cast<std::size_t>(r);
    bump(i < refusals_.size() ? refusals_[i] : nullptr);
}

std::string metrics::serialize() const
{
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    for (const histogram_family* h : {&request_duration_, &upstream_duration_, &store_duration_,
                                      &refresh_duration_, &lock_wait_duration_}) {
        for (prometheus::MetricFamily& f : h->Collect()) {
            families.push_back(std::move(f));
        }
    }
    return prometheus::TextSerializer().Serialize(families);
}

} // namespace oi::metrics
