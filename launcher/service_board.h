// The launcher's view of nestbox's init's services: reads the init's report
// lines (launcher/supervisor.h), keeps each service's state and restart count
// in <state>/services for `status`, and the failure that ended the container.
// The lines come from inside the container: only the policy's service names,
// known states and bounded numbers are taken, anything else is dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launcher {

struct ServiceStatus {
  std::string name;
  std::string state;  // running, backoff, exited, failed, stopping, stopped
  uint32_t restarts = 0;
};

class ServiceBoard {
 public:
  explicit ServiceBoard(const policy::Policy& p);
  // Feeds bytes read from the report pipe; true if a state changed.
  bool feed(const char* data, size_t n);
  const std::vector<ServiceStatus>& services() const { return services_; }
  // "NAME: REASON" of the service that failed for good, or "".
  const std::string& failure() const { return failure_; }
  // The state file's text: "NAME STATE RESTARTS\n" per service.
  std::string render() const;

 private:
  bool line(const std::string& l);
  std::vector<ServiceStatus> services_;
  std::string pending_, failure_;
};

// <state>/services as written by render(); empty when the file is absent.
std::vector<ServiceStatus> parse_services(const std::string& text);

}  // namespace nestbox::launcher
