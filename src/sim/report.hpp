// What `fastgpu simulate` prints and stores: the summary in words or JSON, and the /simulation
// group it adds to a results file.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/simulator.hpp"
#include "sim/workload.hpp"

namespace fastgpu::sim {

/// Everything about one simulation: its inputs in words and every figure of `result`.
nlohmann::json to_json(const SimResult& result, const SimConfig& config, const std::string& source,
                       const std::vector<std::string>& notes);

/// A few lines for people.
std::string summary_text(const SimResult& result, const SimConfig& config, const std::string& source,
                         const std::vector<std::string>& notes);

/// Adds /simulation to a finished results file: attribute `summary` (the JSON text of to_json)
/// and numeric attributes for the headline figures. Throws IoError.
void write_simulation_group(const std::filesystem::path& file, const nlohmann::json& summary);

}  // namespace fastgpu::sim
