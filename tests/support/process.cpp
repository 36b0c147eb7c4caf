#include "support/process.hpp"

#include "support/sanitizer_log.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace oi::test {
namespace {

using namespace std::chrono_literals;

std::runtime_error system_error(const std::string& what)
{
    return std::runtime_error(what + ": " + std::strerror(errno));
}

/// The parent's environment with `overrides` applied, as "NAME=value" strings.
std::vector<std::string>
child_environment(const std::vector<std::pair<std::string, std::string>>& overrides)
{
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string entry(*e);
        const auto name = entry.substr(0, entry.find('='));
        const bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                          [&](const auto& o) { return o.first == name; });
        if (!replaced) {
            env.push_back(entry);
        }
    }
    for (const auto& [name, value] : overrides) {
        env.push_back(name + "=" + value);
    }
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings)
{
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

exit_status decode(int status)
{
    exit_status s;
    if (WIFEXITED(status)) {
        s.exited = true;
        s.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        s.signal = WTERMSIG(status);
    }
    return s;
}

} // namespace

std::filesystem::path make_temp_dir(const std::string& prefix)
{
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        (std::filesystem::path(base && *base ? base : "/tmp") / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data())) {
        throw system_error("mkdtemp " + pattern);
    }
    return pattern;
}

process::process(process_options options)
    : program_(std::filesystem::path{options.program}.filename().string()),
      fail_on_sanitizer_report_(options.fail_on_sanitizer_report), dir_(make_temp_dir("oi-process"))
{
    // Redirect stdout and stderr to files, and optionally change directory.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out_path = (dir_ / "stdout.log").string();
    const std::string err_path = (dir_ / "stderr.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    if (!options.working_dir.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
    }

    // Start the child with the default signal dispositions (the test may ignore SIGPIPE).
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<std::string> argv_strings{options.program};
    argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
    auto argv = pointers(argv_strings);
    add_sanitizer_log_path(options.env, dir_);
    auto env_strings = child_environment(options.env);
    auto envp = pointers(env_strings);

    const int rc = ::posix_spawnp(&pid_, options.program.c_str(), &actions, &attributes,
                                  argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        std::filesystem::remove_all(dir_);
        errno = rc;
        throw system_error("posix_spawnp " + options.program);
    }

    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

process::~process()
{
    stop();
    fail_on_sanitizer_report();
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

bool process::reap(bool block)
{
    if (status_) {
        return true;
    }
    int status = 0;
    pid_t r = 0;
    do {
        r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
        status_ = decode(status);
        return true;
    }
    return false;
}

bool process::running()
{
    return !reap(false);
}

void process::signal(int sig)
{
    if (running()) {
        ::kill(pid_, sig);
    }
}

std::optional<exit_status> process::wait_exit(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reap(false)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) {
            return std::nullopt;
        }
        if (pidfd_ >= 0) {
            // The pidfd becomes readable when the child exits.
            pollfd p{pidfd_, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(left.count()));
        } else {
            std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
        }
    }
    return status_;
}

exit_status process::stop(std::chrono::milliseconds grace)
{
    if (running()) {
        ::kill(pid_, SIGTERM);
        ::kill(pid_, SIGCONT);
        if (!wait_exit(grace)) {
            ::kill(pid_, SIGKILL);
            reap(true);
        }
    }
    return status_.value_or(exit_status{});
}

std::string process::sanitizer_report() const
{
    // ASan, LeakSanitizer and UBSan write to the log_path files this class asked for.
    if (std::string logged = read_sanitizer_reports(dir_); !logged.empty()) {
        return logged;
    }
    // ThreadSanitizer writes each report to stderr between two lines of '=' (scripts/tsan.sh).
    const std::string err = stderr_text();
    const std::size_t found = err.find("WARNING: ThreadSanitizer:");
    if (found == std::string::npos) {
        return {};
    }
    const std::size_t start = err.rfind("==================", found);
    constexpr std::size_t k_max_report = 16 * 1024;
    return err.substr(start == std::string::npos ? found : start, k_max_report);
}

void process::fail_on_sanitizer_report() const
{
    const std::string report = fail_on_sanitizer_report_ ? sanitizer_report() : std::string{};
    if (report.empty()) {
        return;
    }
    if (std::uncaught_exceptions() > 0) {
        // The test is failing already; an assertion while unwinding could end the run.
        std::cerr << "sanitizer report from " << program_ << ":\n" << report << '\n';
        return;
    }
    FAIL_CHECK("sanitizer report from " << program_ << ":\n" << report);
}

std::string process::stdout_text() const
{
    return read_file(dir_ / "stdout.log");
}

std::string process::stderr_text() const
{
    return read_file(dir_ / "stderr.log");
}

namespace {

/// One free port from the kernel; it may offer a port it offered moments ago.
std::uint16_t kernel_free_port();

} // namespace

std::uint16_t free_tcp_port()
{
    // Two listeners of one test (a proxy's proxy and admin ports) must not get the same port.
    static std::mutex mutex;
    static std::set<std::uint16_t> handed_out;
    for (;;) {
        const std::uint16_t port = kernel_free_port();
        const std::lock_guard lock(mutex);
        if (handed_out.insert(port).second) {
            return port;
        }
    }
}

namespace {

std::uint16_t kernel_free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw system_error("socket");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    ::close(fd);
    if (!ok) {
        throw system_error("bind 127.0.0.1:0");
    }
    return ntohs(address.sin_port);
}

} // namespace

bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout, const std::string& host)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
        throw std::runtime_error("wait_for_tcp: not an IPv4 address: " + host);
    }

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto backoff = 5ms;
    for (;;) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool connected =
            fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
        if (fd >= 0) {
            ::close(fd);
        }
        if (connected) {
            return true;
        }
        if (std::chrono::steady_clock::now() + backoff > deadline) {
            return false;
        }
        // Polling a port has no event to wait on: back off briefly, bounded by the deadline.
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    }
}

} // namespace oi::test
