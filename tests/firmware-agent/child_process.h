// A child process for the firmware-agent tests (the host agent, QEMU): argv run with
// stdout and stderr on one pipe the test reads. Header-only, POSIX.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

namespace tmtest {

/// A child process whose stdout (and stderr) we read line by line.
class Child {
public:
    Child(const std::vector<std::string> &argv, const std::string &cwd = {})
    {
        int fds[2];
        if (pipe(fds) != 0)
            return;
        pid_ = fork();
        if (pid_ == 0) {
            dup2(fds[1], 1);
            dup2(fds[1], 2);
            close(fds[0]);
            close(fds[1]);
            if (!cwd.empty() && chdir(cwd.c_str()) != 0)
                _exit(126);
            std::vector<char *> args;
            for (const auto &a : argv)
                args.push_back(const_cast<char *>(a.c_str()));
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
        close(fds[1]);
        out_ = fds[0];
    }
    ~Child()
    {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int st;
            waitpid(pid_, &st, 0);
        }
        if (out_ >= 0)
            close(out_);
    }
    /// Wait for a line matching re; returns the first capture group ("" on timeout).
    std::string waitFor(const std::regex &re, int timeoutMs = 10000)
    {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        while (std::chrono::steady_clock::now() < end) {
            size_t nl;
            while ((nl = buf_.find('\n')) != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                std::smatch m;
                if (std::regex_search(line, m, re))
                    return m[1];
            }
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, 100) > 0) {
                char tmp[512];
                ssize_t n = read(out_, tmp, sizeof tmp);
                if (n <= 0)
                    break;
                buf_.append(tmp, size_t(n));
            }
        }
        return {};
    }
    /// Everything the child writes until it exits, and its waitpid() status; on timeout
    /// the child is killed and *status is -1.
    std::string readToExit(int timeoutMs, int *status)
    {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        bool eof = false;
        while (!eof && std::chrono::steady_clock::now() < end) {
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, 100) > 0) {
                char tmp[512];
                ssize_t n = read(out_, tmp, sizeof tmp);
                if (n <= 0)
                    eof = true;
                else
                    buf_.append(tmp, size_t(n));
            }
        }
        if (!eof) {
            *status = -1;
            terminate();
        } else {
            waitpid(pid_, status, 0);
            pid_ = -1;
        }
        std::string out;
        out.swap(buf_);
        return out;
    }
    int terminate()
    {
        kill(pid_, SIGTERM);
        int st = 0;
        waitpid(pid_, &st, 0);
        pid_ = -1;
        return st;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buf_;
};

} // namespace tmtest
