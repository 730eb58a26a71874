// The job's reductions as the results file records them: what earlier runs of the job combined
// (a resumed run starts from those) plus what the workers of this run combined.
#pragma once

#include <vector>

#include "fastgpu/job_spec.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::app {

/// One value per declared reduction, in the job file's order: `earlier` (from the file being
/// resumed; ignored where its op or size differs from the declaration) combined with every value
/// of `now` (the workers' combined totals, and each retired worker's own).
/// A reduction nobody added to holds the op's identity and 0 contributions.
std::vector<ReductionValue> merge_reductions(const std::vector<ReductionSpec>& specs,
                                             const std::vector<ReductionValue>& earlier,
                                             const std::vector<ReductionValue>& now);

}  // namespace fastgpu::app
