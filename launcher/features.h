// Refusal before anything is created or mounted: the kernel facilities the
// policy needs, each missing one named with its CONFIG_ symbol.
#pragma once

#include "launcher/launcher.h"
#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launcher {

Status check_kernel(const policy::Policy& policy, const RootfsSource& source);

// Static checks of the policy itself (name, command, namespace combinations).
Status check_policy(const policy::Policy& policy);

}  // namespace nestbox::launcher
