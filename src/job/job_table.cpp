// The [job] table: name, output, output_dir, gpu_hour_price, gpu_hour_prices, plugin.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "job/job_parser.hpp"
#include "job/plugin_loader.hpp"
#include "job/suggest.hpp"

namespace fastgpu::job {

namespace {

bool is_job_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

/// Loads one `plugin` value (a string at `node`) now, so the [task] after it can name its kernels.
void load_plugin_value(const TomlReader& reader, const toml::node& node, JobSpec& job) {
  const std::string& plugin = reader.string_value(node, "plugin");
  if (plugin.empty()) reader.fail(reader.at(node), "'plugin' must not be empty (the path of a shared library)");
  const std::filesystem::path path = resolve_plugin_path(plugin, job.source_path);
  std::filesystem::path loaded;
  try {
    loaded = load_plugin(path);
  } catch (const PluginLoadError& error) {
    const std::string resolved = path.string() == plugin ? "" : " (" + path.string() + ")";
    reader.fail(reader.at(node), "cannot load plugin '" + plugin + "'" + resolved + ": " + error.what());
  }
  if (std::find(job.plugins.begin(), job.plugins.end(), loaded.string()) == job.plugins.end()) {
    job.plugins.push_back(loaded.string());
  }
}

/// A price at `node`: a number, finite, zero or more. `what` names it in errors.
double price_value(const TomlReader& reader, const toml::node& node, const std::string& what, const char* hint = "") {
  double value = 0;
  if (const auto* integer = node.as_integer()) {
    value = static_cast<double>(integer->get());
  } else if (const auto* number = node.as_floating_point()) {
    value = number->get();
  } else {
    reader.fail(reader.at(node), what + " must be a number (the price of one GPU for one hour), not " +
                                     type_phrase(node) + hint);
  }
  if (!std::isfinite(value) || value < 0) reader.fail(reader.at(node), what + " must be a finite number, zero or more");
  return value;
}

/// [job.gpu_hour_prices]: model name = price, in file order. Names are matched case-insensitively
/// (job/gpu_prices.hpp), so two that differ only in case would be one model listed twice.
std::vector<GpuModelPrice> parse_model_prices(const TomlReader& reader, const toml::node& node) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    reader.fail(reader.at(node), "'gpu_hour_prices' must be a table of GPU model = price, e.g. "
                                 "[job.gpu_hour_prices] \"H100\" = 4.5, not " + type_phrase(node));
  }
  std::vector<GpuModelPrice> prices;
  for (const auto& [key, value] : reader.entries(*table)) {
    const std::string model(key->str());
    if (model.find_first_not_of(" \t") == std::string::npos) {
      reader.fail(reader.at(*key), "a GPU model name in [job.gpu_hour_prices] must not be empty");
    }
    for (const GpuModelPrice& earlier : prices) {
      if (lowercase(earlier.model) == lowercase(model)) {
        reader.fail(reader.at(*key), "GPU model '" + model + "' is listed twice in [job.gpu_hour_prices] (also as '" +
                                         earlier.model + "'; names match whatever their case)");
      }
    }
    prices.push_back({model, price_value(reader, *value, "the price of GPU model '" + model + "'")});
  }
  return prices;
}

}  // namespace

void parse_job_table(const TomlReader& reader, const toml::table& table, JobSpec& job) {
  reader.check_keys(table, kJobKeys, misplaced_key_messages("job"));

  const toml::node* name = table.get("name");
  if (name == nullptr) reader.fail(reader.at(table), "missing required key 'name' in [job]");
  job.name = reader.string_value(*name, "name");
  if (job.name.empty()) reader.fail(reader.at(*name), "'name' must not be empty");
  if (!is_job_name(job.name)) {
    reader.fail(reader.at(*name), "job name '" + job.name + "' may only contain letters, digits, '_', '.' and '-'");
  }

  job.output = job.name + ".h5";
  if (const toml::node* output = table.get("output")) {
    job.output = reader.string_value(*output, "output");
    if (job.output.empty()) reader.fail(reader.at(*output), "'output' must not be empty (leave it out for " + job.name + ".h5)");
  }
  if (const toml::node* output_dir = table.get("output_dir")) {
    job.output_dir = reader.string_value(*output_dir, "output_dir");
  }
  if (const toml::node* price = table.get("gpu_hour_price")) {
    const char* hint = price->is_table() ? " (prices per GPU model go in [job.gpu_hour_prices])" : "";
    job.gpu_hour_price = price_value(reader, *price, "'gpu_hour_price'", hint);
  }
  if (const toml::node* prices = table.get("gpu_hour_prices")) {
    job.gpu_hour_prices = parse_model_prices(reader, *prices);
  }
  if (const toml::node* plugin = table.get("plugin")) {
    if (const toml::array* list = plugin->as_array()) {
      for (const toml::node& entry : *list) {
        if (!entry.is_string()) {
          reader.fail(reader.at(entry), "'plugin' entries must be strings (paths of shared libraries), not " +
                                            type_phrase(entry));
        }
      }
      for (const toml::node& entry : *list) load_plugin_value(reader, entry, job);
    } else if (plugin->is_string()) {
      load_plugin_value(reader, *plugin, job);
    } else {
      reader.fail(reader.at(*plugin), "'plugin' must be a string or an array of strings (paths of shared "
                                      "libraries, relative to the job file), not " + type_phrase(*plugin));
    }
  }
}

}  // namespace fastgpu::job
