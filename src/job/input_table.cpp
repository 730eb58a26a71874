// [[input]] tables: shared inputs, HDF5 datasets read once and broadcast to every worker.
#include <filesystem>
#include <map>

#include "job/job_parser.hpp"

namespace fastgpu::job {

namespace {

const std::vector<std::string> kInputKeys = {"name", "file", "dataset"};

const toml::node& required(const TomlReader& reader, const toml::table& entry, const char* key) {
  const toml::node* node = entry.get(key);
  if (node == nullptr) {
    reader.fail(reader.at(entry), std::string("missing required key '") + key + "' in [[input]] (it has name, file and dataset)");
  }
  return *node;
}

InputSpec parse_entry(const TomlReader& reader, const toml::table& entry, const std::filesystem::path& job_dir,
                      std::map<std::string, SourceLocation>& names_seen) {
  reader.check_keys(entry, kInputKeys, {}, "an [[input]] has name, file and dataset");
  InputSpec input;
  const toml::node& name = required(reader, entry, "name");
  input.name = reader.string_value(name, "name");
  if (!is_plain_name(input.name)) {
    reader.fail(reader.at(name), "input name '" + input.name +
                                     "' must be non-empty and only contain letters, digits, '_' and '-'");
  }
  const auto [previous, inserted] = names_seen.emplace(input.name, reader.at(name));
  if (!inserted) {
    reader.fail(reader.at(name), "input '" + input.name + "' is already declared at line " +
                                     std::to_string(previous->second.line));
  }
  const toml::node& file = required(reader, entry, "file");
  const std::string& file_text = reader.string_value(file, "file");
  if (file_text.empty()) reader.fail(reader.at(file), "'file' must not be empty");
  // Whether it is there is checked when a run starts: a job file may be written before its data.
  std::filesystem::path path = file_text;
  if (path.is_relative()) path = job_dir / path;
  input.file = std::filesystem::absolute(path).lexically_normal().string();
  const toml::node& dataset = required(reader, entry, "dataset");
  input.dataset = reader.string_value(dataset, "dataset");
  if (input.dataset.empty() || input.dataset.front() != '/') {
    reader.fail(reader.at(dataset), "'dataset' must be the dataset's absolute path in the file, e.g. \"/x\", not '" +
                                        input.dataset + "'");
  }
  return input;
}

}  // namespace

std::vector<InputSpec> parse_inputs(const TomlReader& reader, const toml::node& node, const std::string& job_file) {
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    reader.fail(reader.at(node), "'input' must be a list of tables, written [[input]], not " + type_phrase(node));
  }
  const std::filesystem::path job_dir = std::filesystem::path(job_file).parent_path();
  std::vector<InputSpec> inputs;
  std::map<std::string, SourceLocation> names_seen;
  for (const toml::node& entry : *list) {
    if (!entry.is_table()) reader.fail(reader.at(entry), "each [[input]] entry must be a table, not " + type_phrase(entry));
    inputs.push_back(parse_entry(reader, *entry.as_table(), job_dir, names_seen));
  }
  return inputs;
}

}  // namespace fastgpu::job
