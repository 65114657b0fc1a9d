// Message queue (list): a producer and reliable consumers. Each consumer moves a message into its
// own processing list (BLMOVE) and removes it when done (LREM). Here a consumer process is killed
// with SIGKILL while it holds a message; once its heartbeat expires, recover_stale() puts the
// message back and another consumer processes it: nothing is lost. Then a poison message (one
// every consumer dies on) goes to the dead letters after max_deliveries deaths.
//
//   recipe_queue [host] [port]         (default: REDISCACHE_TEST_REDIS_HOST/PORT, 127.0.0.1:6379)
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "recipe_support.hpp"
#include <rediscache/recipes/reliable_queue.hpp>

using rediscache::recipes::QueueConsumer;
using rediscache::recipes::ReliableQueue;
using rediscache::recipes::ReliableQueueOptions;
using namespace std::chrono_literals;

namespace {

// The doomed consumer: its own process and connection. It takes one job, reports which, and
// "works" on it until it is killed.
[[noreturn]] void doomed_consumer(const rediscache::ConnectionOptions& server,
                                  const ReliableQueueOptions& options, int report_fd) {
  std::string taken;
  try {
    ReliableQueue queue(rediscache::Client(server), options);
    QueueConsumer consumer = queue.consumer("doomed");
    taken = consumer.pop(500ms).value_or("");
  } catch (...) {
    taken.clear();
  }
  const std::string line = taken + "\n";
  if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    ::_exit(2);
  }
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  const rediscache::ConnectionOptions server = example::server(argc, argv);
  return example::run(
      argc, argv, "queue",
      [&](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        ReliableQueueOptions options;
        options.prefix = prefix;
        options.consumer_timeout = 1s;  // short, so the demo recovers quickly
        ReliableQueue queue(client, options);

        std::vector<std::string> jobs;
        for (int i = 1; i <= 20; ++i) jobs.push_back("job-" + std::to_string(i));
        queue.push(jobs);
        std::cout << "producer pushed " << jobs.size() << " jobs\n";

        int report[2];
        if (::pipe(report) != 0) throw std::runtime_error("pipe failed");
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid == 0) {
          ::close(report[0]);
          doomed_consumer(server, options, report[1]);
        }
        ::close(report[1]);
        std::string taken;
        pollfd fd{report[0], POLLIN, 0};
        char c = 0;
        while (::poll(&fd, 1, 10000) == 1 && ::read(report[0], &c, 1) == 1 && c != '\n') taken += c;
        ::close(report[0]);
        ::kill(pid, SIGKILL);  // mid-message: it never acknowledges
        int status = 0;
        ::waitpid(pid, &status, 0);
        std::cout << "consumer 'doomed' (pid " << pid << ") took " << taken << " and was killed\n";
        checks.check(taken == "job-1", "the doomed consumer took the oldest job");
        checks.check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "it died of SIGKILL");

        // A healthy consumer works through the rest and acknowledges each job.
        std::multiset<std::string> processed;
        QueueConsumer worker = queue.consumer("worker");
        while (auto job = worker.pop(100ms)) {
          processed.insert(*job);
          worker.ack(*job);
        }
        std::cout << "worker processed " << processed.size() << " jobs; "
                  << queue.consumer("doomed").in_flight().size()
                  << " still in the dead consumer's processing list\n";

        // Recovery: once the dead consumer's heartbeat has expired, its job goes back to the queue.
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        std::size_t recovered = 0;
        while (recovered == 0 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(100ms);
          recovered = queue.recover_stale();
        }
        std::cout << "recover_stale() requeued " << recovered << " job(s)\n";
        checks.check(recovered == 1, "one job recovered from the dead consumer");
        while (auto job = worker.pop(100ms)) {
          processed.insert(*job);
          worker.ack(*job);
        }

        checks.check(processed == std::multiset<std::string>(jobs.begin(), jobs.end()),
                     "every job processed exactly once, the killed consumer's included");
        checks.check(queue.size() == 0 && worker.in_flight().empty(), "queue and processing empty");
        worker.leave();

        // Poison messages: with max_deliveries, a message that every consumer dies on goes to
        // the dead letters after that many deaths instead of coming back forever.
        ReliableQueueOptions strict = options;
        strict.prefix = prefix + "poison:";
        strict.consumer_timeout = 300ms;
        strict.max_deliveries = 2;
        ReliableQueue guarded(client, strict);
        guarded.push("crashes-every-handler");
        std::size_t deliveries = 0;
        const auto poison_deadline = std::chrono::steady_clock::now() + 10s;
        while (guarded.dead_letters().empty() &&
               std::chrono::steady_clock::now() < poison_deadline) {
          QueueConsumer victim = guarded.consumer();
          if (victim.pop(100ms)) ++deliveries;  // ...and "dies": no ack, no more heartbeats
          std::this_thread::sleep_for(350ms);   // its heartbeat expires
          guarded.recover_stale();
        }
        std::cout << "poison message delivered " << deliveries << " times, then dead-lettered\n";
        checks.check(deliveries == 2 && guarded.dead_letters() ==
                                            std::vector<std::string>{"crashes-every-handler"},
                     "the poison message is dead-lettered after max_deliveries deaths");
        checks.check(guarded.size() == 0, "the poison message no longer circulates");
        checks.check(guarded.requeue_dead_letters() == 1 && guarded.size() == 1,
                     "dead letters can be requeued once the handler is fixed");
      });
}
