#pragma once
/// @file A real PostgreSQL server for tests: Debian's postgresql-15 binaries,
/// initdb into a temporary directory, listening on 127.0.0.1 at a free port
/// (no Unix socket outside its directory), trust authentication for the user
/// `ballotchain`. Run as the `postgres` system user when the tests run as root
/// (PostgreSQL refuses root). Stopped and removed on destruction.
///
/// Needs libpq (PQping) in the including executable. Throws std::runtime_error
/// when the server cannot be set up (say what to install).

#include "temp_dir.hpp"

#include <libpq-fe.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ballotchain::test {

class postgres_server {
public:
    postgres_server() : dir_("ballotchain-pg") {
        bin_ = find_bin();
        if (::geteuid() == 0) {
            const passwd* pw = ::getpwnam("postgres");
            if (!pw) throw std::runtime_error("running as root and there is no 'postgres' user to run PostgreSQL as");
            uid_ = pw->pw_uid;
            gid_ = pw->pw_gid;
            // The server's user must reach its directory.
            std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                                          std::filesystem::perms::others_exec);
            if (::chown(dir_.path().c_str(), uid_, gid_) != 0) throw std::runtime_error("chown " + dir_.path().string());
        }
        const int rc = run_as({bin_ + "/initdb", "-D", data(), "-U", "ballotchain", "--auth=trust", "-E", "UTF8",
                               "--no-sync", "--locale=C"},
                              dir_.file("initdb.log"));
        if (rc != 0) throw std::runtime_error("initdb failed (" + std::to_string(rc) + "): " + slurp(dir_.file("initdb.log")));
        for (int attempt = 0;; ++attempt) {
            port_ = free_port();
            start();
            if (wait_ready()) break;
            stop();
            if (attempt == 4) throw std::runtime_error("PostgreSQL did not start: " + slurp(log()));
        }
    }
    ~postgres_server() { stop(); }
    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// The URL of database `db` (libpq URI).
    std::string url(const std::string& db = "postgres") const {
        return "postgresql://ballotchain@127.0.0.1:" + std::to_string(port_) + "/" + db + "?connect_timeout=5";
    }
    /// Creates a fresh database and returns its URL.
    std::string create_database(const std::string& name) {
        PGconn* c = PQconnectdb(url().c_str());
        std::string err;
        if (PQstatus(c) != CONNECTION_OK) err = PQerrorMessage(c);
        if (err.empty()) {
            PGresult* r = PQexec(c, ("CREATE DATABASE \"" + name + "\"").c_str());
            if (PQresultStatus(r) != PGRES_COMMAND_OK) err = PQresultErrorMessage(r);
            PQclear(r);
        }
        PQfinish(c);
        if (!err.empty()) throw std::runtime_error("CREATE DATABASE " + name + ": " + err);
        return url(name);
    }
    /// Runs SQL on database `db` as the superuser; returns the first value of the first row ("" if none).
    std::string query(const std::string& db, const std::string& sql) {
        PGconn* c = PQconnectdb(url(db).c_str());
        std::string out, err;
        if (PQstatus(c) != CONNECTION_OK) err = PQerrorMessage(c);
        if (err.empty()) {
            PGresult* r = PQexec(c, sql.c_str());
            const auto st = PQresultStatus(r);
            if (st == PGRES_TUPLES_OK) {
                if (PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
            } else if (st != PGRES_COMMAND_OK) {
                err = PQresultErrorMessage(r);
            }
            PQclear(r);
        }
        PQfinish(c);
        if (!err.empty()) throw std::runtime_error(sql + ": " + err);
        return out;
    }

    /// Stops the server (fast shutdown: open connections are closed) and waits for it.
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGINT);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
    }
    /// Starts it again on the same port and waits until it takes connections.
    void restart() {
        stop();
        for (int i = 0; i < 50; ++i) {  // the old socket may linger a moment
            start();
            if (wait_ready()) return;
            stop();
        }
        throw std::runtime_error("PostgreSQL did not come back: " + slurp(log()));
    }
    bool running() const noexcept { return pid_ > 0; }
    std::string log() const { return dir_.file("postgres.log"); }

private:
    static std::string find_bin() {
        if (const char* e = std::getenv("BALLOTCHAIN_PG_BIN")) return e;
        std::string best;
        std::error_code ec;
        for (const auto& d : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
            if (std::filesystem::exists(d.path() / "bin" / "initdb") && d.path().string() > best) best = d.path().string();
        if (best.empty())
            throw std::runtime_error("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: install postgresql-15"
                                     " (scripts/setup does)");
        return best + "/bin";
    }

    static std::uint16_t free_port() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            if (fd >= 0) ::close(fd);
            throw std::runtime_error("no free port");
        }
        ::close(fd);
        return ntohs(a.sin_port);
    }

    static std::string slurp(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        auto s = ss.str();
        return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
    }

    std::string data() const { return dir_.file("data"); }

    /// fork + exec `argv` (as the server's user), output appended to `log`; returns its pid.
    pid_t spawn(const std::vector<std::string>& argv, const std::string& log) const {
        const pid_t pid = ::fork();
        if (pid == 0) {
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
                ::close(fd);
            }
            if (uid_ != 0 && (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0)) ::_exit(126);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        return pid;
    }
    int run_as(const std::vector<std::string>& argv, const std::string& log) const {
        const pid_t pid = spawn(argv, log);
        int st = 0;
        ::waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    }

    void start() {
        pid_ = spawn({bin_ + "/postgres", "-D", data(), "-p", std::to_string(port_), "-c", "listen_addresses=127.0.0.1",
                      "-c", "unix_socket_directories=" + dir_.path().string(), "-c", "max_connections=200", "-c",
                      "shared_buffers=32MB"},
                     log());
    }

    /// Waits (up to 60 s) until the server takes connections; false when it exited or never did.
    bool wait_ready() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
            if (PQping(url().c_str()) == PQPING_OK) return true;
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    temp_dir dir_;
    std::string bin_;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace ballotchain::test
