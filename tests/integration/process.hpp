#pragma once
/// @file Test harness for real processes: temp dirs, free ports, spawn/kill/wait.

#include <temp_dir.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ballotchain::itest {

namespace fs = std::filesystem;

/// A unique temporary directory (ballotchain-itest-XXXXXX), removed when the object dies
/// unless BALLOTCHAIN_KEEP_TMP is set (tests/unit/support/temp_dir.hpp).
class temp_dir : public test::temp_dir {
public:
    temp_dir() : test::temp_dir("ballotchain-itest") {}
};

/// A TCP port that was free a moment ago on 127.0.0.1 (bind to 0, read, close).
inline std::uint16_t free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

/// `n` distinct free ports.
inline std::vector<std::uint16_t> free_ports(std::size_t n) {
    std::vector<std::uint16_t> out;
    while (out.size() < n) {
        auto p = free_port();
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
    return out;
}

/// A child process with stdout+stderr to a log file. Killed (SIGKILL) on destruction if still running.
class process {
public:
    process() = default;
    process(std::vector<std::string> argv, fs::path log) : argv_(std::move(argv)), log_(std::move(log)) { start(); }
    ~process() { kill(SIGKILL); }
    process(process&& o) noexcept { *this = std::move(o); }
    process& operator=(process&& o) noexcept {
        if (this != &o) {
            kill(SIGKILL);
            argv_ = std::move(o.argv_);
            log_ = std::move(o.log_);
            pid_ = o.pid_;
            o.pid_ = -1;
        }
        return *this;
    }

    void start() {
        pid_ = ::fork();
        if (pid_ == 0) {
            const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
                ::close(fd);
            }
            std::vector<char*> args;
            for (auto& a : argv_) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }

    bool running() {
        if (pid_ <= 0) return false;
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            exit_status_ = st;
            return false;
        }
        return true;
    }

    /// Sends `sig` and waits for the exit. Returns the wait status.
    int kill(int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::milliseconds(10000)) {
        if (pid_ <= 0) return exit_status_;
        ::kill(pid_, sig);
        const auto deadline = std::chrono::steady_clock::now() + grace;
        int st = 0;
        while (true) {
            const pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) break;
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &st, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        pid_ = -1;
        exit_status_ = st;
        return st;
    }

    /// Waits for the exit; returns the wait status.
    int wait() {
        if (pid_ <= 0) return exit_status_;
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        exit_status_ = st;
        return st;
    }

    void restart() {
        kill(SIGKILL);
        start();
    }

    std::string log_text() const {
        std::ifstream f(log_);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    pid_t pid() const { return pid_; }

private:
    std::vector<std::string> argv_;
    fs::path log_;
    pid_t pid_ = -1;
    int exit_status_ = 0;
};

/// Runs a command to completion; returns {exit code, output}.
inline std::pair<int, std::string> run(const std::vector<std::string>& argv, const fs::path& log) {
    process p(argv, log);
    const int st = p.wait();
    return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), p.log_text()};
}

/// Polls `pred` every 50 ms until true or `timeout`; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

}  // namespace ballotchain::itest
