#include "common/log.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>

namespace oi::log {

namespace {

std::shared_ptr<spdlog::logger> make_stderr_logger()
{
    auto logger =
        std::make_shared<spdlog::logger>("oi", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    return logger;
}

// The process-wide logger and its settings. Swapped only by `init` and by `capture`.
struct global_state {
    std::atomic<int> min_level{static_cast<int>(level::info)};
    std::atomic<bool> json{true};
    std::atomic<std::shared_ptr<spdlog::logger>> logger{make_stderr_logger()};
    std::shared_ptr<spdlog::details::thread_pool> pool;
};

global_state& global()
{
    static global_state g;
    return g;
}

spdlog::level::level_enum to_spdlog(level l) noexcept
{
    switch (l) {
    case level::trace:
        return spdlog::level::trace;
    case level::debug:
        return spdlog::level::debug;
    case level::info:
        return spdlog::level::info;
    case level::warn:
        return spdlog::level::warn;
    case level::error:
        return spdlog::level::err;
    case level::off:
        break;
    }
    return spdlog::level::off;
}

template <typename T> void append_number(std::string& out, T v)
{
    std::array<char, 64> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), ec == std::errc{} ? end : buf.data());
}

// Fractional values are durations in milliseconds or ratios: three decimals (a microsecond) are
// plenty, and the shortest round-trip form would print binary noise such as 4.047842999999999.
void append_number(std::string& out, double v)
{
    std::array<char, 64> buf{};
    auto [end, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, 3);
    if (ec != std::errc{}) {
        append_number<double>(out, v); // too large for fixed notation: the shortest form
        return;
    }
    while (end[-1] == '0') {
        --end;
    }
    if (end[-1] == '.') {
        --end;
    }
    out.append(buf.data(), end);
}

bool needs_quotes(std::string_view v) noexcept
{
    if (v.empty()) {
        return true;
    }
    for (const unsigned char c : v) {
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '=' || c == '\\') {
            return true;
        }
    }
    return false;
}

// Text mode: bare when the value is a plain word, otherwise double-quoted with C-like escapes.
void append_text_string(std::string& out, std::string_view v)
{
    if (!needs_quotes(v)) {
        out += v;
        return;
    }
    out += '"';
    for (const char ch : v) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                constexpr std::string_view k_hex = "0123456789abcdef";
                out += "\\x";
                out += k_hex[c >> 4];
                out += k_hex[c & 0xf];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

void append_value(std::string& out, const field::value_type& value, bool json)
{
    std::visit(
        [&](const auto& v) {
            using held = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<held, std::string_view>) {
                if (json) {
                    out += boost::json::serialize(boost::json::string_view(v.data(), v.size()));
                } else {
                    append_text_string(out, v);
                }
            } else if constexpr (std::is_same_v<held, bool>) {
                out += v ? "true" : "false";
            } else if constexpr (std::is_same_v<held, double>) {
                if (json && !std::isfinite(v)) {
                    out += "null"; // JSON has no NaN or infinity
                } else {
                    append_number(out, v);
                }
            } else {
                append_number(out, v);
            }
        },
        value);
}

void append_pair(std::string& out, std::string_view key, const field::value_type& value, bool json,
                 bool first)
{
    if (json) {
        out += first ? "{" : ",";
        out += boost::json::serialize(boost::json::string_view(key.data(), key.size()));
        out += ':';
    } else {
        if (!first) {
            out += ' ';
        }
        out += key;
        out += '=';
    }
    append_value(out, value, json);
}

void write_line(level l, const std::string& line)
{
    const std::shared_ptr<spdlog::logger> logger = global().logger.load();
    logger->log(to_spdlog(l), spdlog::string_view_t(line.data(), line.size()));
}

} // namespace

std::optional<level> parse_level(std::string_view name) noexcept
{
    if (name == "trace")
        return level::trace;
    if (name == "debug")
        return level::debug;
    if (name == "info")
        return level::info;
    if (name == "warn" || name == "warning")
        return level::warn;
    if (name == "error")
        return level::error;
    if (name == "off")
        return level::off;
    return std::nullopt;
}

std::string_view level_name(level l) noexcept
{
    switch (l) {
    case level::trace:
        return "trace";
    case level::debug:
        return "debug";
    case level::info:
        return "info";
    case level::warn:
        return "warn";
    case level::error:
        return "error";
    case level::off:
        break;
    }
    return "off";
}

void init(level min_level, bool json)
{
    global_state& g = global();

    // One background thread writes lines; workers only enqueue (spdlog async logger).
    if (!g.pool) {
        g.pool = std::make_shared<spdlog::details::thread_pool>(k_queue_size, 1);
    }
    auto logger = std::make_shared<spdlog::async_logger>(
        "oi", std::make_shared<spdlog::sinks::stderr_sink_mt>(), g.pool,
        spdlog::async_overflow_policy::overrun_oldest);
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::warn);

    g.json.store(json);
    g.min_level.store(static_cast<int>(min_level));
    g.logger.store(std::move(logger));
}

void reconfigure(level min_level, bool json) noexcept
{
    global_state& g = global();
    g.json.store(json);
    g.min_level.store(static_cast<int>(min_level));
}

void flush()
{
    global().logger.load()->flush();
}

bool enabled(level l) noexcept
{
    return l != level::off &&
           static_cast<int>(l) >= global().min_level.load(std::memory_order_relaxed);
}

std::string format_line(bool json, std::string_view ts, level l, std::string_view name,
                        std::initializer_list<field> fields)
{
    std::string out;
    out.reserve(128);

    append_pair(out, "ts", std::string_view(ts), json, true);
    append_pair(out, "level", level_name(l), json, false);
    append_pair(out, "event", name, json, false);
    for (const field& f : fields) {
        if (!f.key.empty()) {
            append_pair(out, f.key, f.value, json, false);
        }
    }

    if (json) {
        out += '}';
    }
    return out;
}

void event(level l, std::string_view name, std::initializer_list<field> fields)
{
    if (!enabled(l)) {
        return;
    }
    try {
        const bool json = global().json.load(std::memory_order_relaxed);
        write_line(l, format_line(json, now_rfc3339(), l, name, fields));
    } catch (...) {
        // Logging never fails the caller (out of memory, a closed stderr): the line is lost.
    }
}

std::string now_rfc3339()
{
    using namespace std::chrono;
    const auto now = time_point_cast<milliseconds>(system_clock::now());
    const std::time_t secs = system_clock::to_time_t(now);
    const auto millis = static_cast<int>(now.time_since_epoch().count() % 1000);

    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::array<char, 32> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                tm.tm_sec, millis < 0 ? millis + 1000 : millis);
    return {buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

std::string new_request_id()
{
    thread_local std::mt19937_64 rng = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();

    constexpr std::string_view k_hex = "0123456789abcdef";
    std::uint64_t v = rng();
    std::string id(16, '0');
    for (std::size_t i = 16; i-- > 0; v >>= 4) {
        id[i] = k_hex[v & 0xf];
    }
    return id;
}

// ---- capture (tests) ----

namespace {

class memory_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::vector<std::string> lines()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        lines_.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}

private:
    std::vector<std::string> lines_;
};

} // namespace

struct capture::state {
    std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
    std::shared_ptr<spdlog::logger> previous;
    int previous_level = 0;
    bool previous_json = true;
};

capture::capture(level min_level, bool json) : state_(std::make_unique<state>())
{
    global_state& g = global();
    auto logger = std::make_shared<spdlog::logger>("oi-capture", state_->sink);
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);

    state_->previous = g.logger.exchange(std::move(logger));
    state_->previous_level = g.min_level.exchange(static_cast<int>(min_level));
    state_->previous_json = g.json.exchange(json);
}

capture::~capture()
{
    global_state& g = global();
    g.logger.store(std::move(state_->previous));
    g.min_level.store(state_->previous_level);
    g.json.store(state_->previous_json);
}

std::vector<std::string> capture::lines() const
{
    return state_->sink->lines();
}

std::string capture::text() const
{
    std::string out;
    for (const std::string& line : lines()) {
        out += line;
        out += '\n';
    }
    return out;
}

bool capture::contains(std::string_view needle) const
{
    return text().find(needle) != std::string::npos;
}

} // namespace oi::log
