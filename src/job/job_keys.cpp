#include <algorithm>

#include "job/job_parser.hpp"

namespace fastgpu::job {

std::map<std::string, std::string> misplaced_key_messages(std::string_view here) {
  std::map<std::string, std::string> messages;
  const auto add = [&](const std::vector<std::string>& keys, std::string_view table, std::string_view home) {
    if (here == home) return;
    for (const std::string& key : keys) {
      if (here == "tasks" && std::find(kTaskEntryKeys.begin(), kTaskEntryKeys.end(), key) != kTaskEntryKeys.end()) {
        continue;
      }
      if (!messages.contains(key)) messages[key] = "unknown key '" + key + "' (it belongs in " + std::string(table) + ")";
    }
  };
  add(kJobKeys, "[job]", "job");
  add(kTaskKeys, "[task]", "task");
  add({"params"}, "a [[tasks]] entry", "tasks");
  if (!here.empty()) {
    for (const std::string& key : kTopLevelKeys) {
      const bool array = key == "tasks" || key == "reduce" || key == "input";
      const std::string header = array ? "[[" + key + "]]" : "[" + key + "]";
      messages[key] = "unknown key '" + key + "' (" + header + " is a table of its own: start it with a " + header +
                      " line, not inside another table)";
    }
  }
  if (here == "tasks") {
    // Per-task settings other than gpus are not supported: every subtask shares the [task] template.
    for (const std::string& key : kTaskKeys) {
      if (std::find(kTaskEntryKeys.begin(), kTaskEntryKeys.end(), key) != kTaskEntryKeys.end()) continue;
      messages[key] = "unknown key '" + key + "': a [[tasks]] entry has only 'name', 'params' and 'gpus'; '" + key +
                      "' belongs in [task], which every task shares";
    }
  }
  return messages;
}

}  // namespace fastgpu::job
