// /workers' placement fields (pci_bus_id, numa_node, cpu_set): they round-trip through the file and
// the byte codec, and a file written before them (its rows without those members) still reads.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstddef>
#include <cstdint>

#include "io/results_reader.hpp"
#include "io/results_writer.hpp"
#include "io_test_util.hpp"
#include "support/byte_codec.hpp"

namespace fastgpu::io {
namespace {

class WorkersTopology : public test::ScratchDir {
 protected:
  std::filesystem::path file() const { return dir() / "run.h5"; }
};

void expect_worker(const WorkerRecord& want, const WorkerRecord& have) {
  EXPECT_EQ(want.rank, have.rank);
  EXPECT_EQ(want.host, have.host);
  EXPECT_EQ(want.local_rank, have.local_rank);
  EXPECT_EQ(want.device, have.device);
  EXPECT_EQ(want.gpu_name, have.gpu_name);
  EXPECT_EQ(want.gpu_uuid, have.gpu_uuid);
  EXPECT_EQ(want.pci_bus_id, have.pci_bus_id);
  EXPECT_EQ(want.numa_node, have.numa_node);
  EXPECT_EQ(want.cpu_set, have.cpu_set);
}

const WorkerRecord kGpuWorker{1, "node0", 0, "cuda:0", "NVIDIA H100 80GB HBM3", "GPU-1234", "0000:3b:00.0", 1, "16-31"};
const WorkerRecord kCpuWorker{2, "node0", 1, "cpu", "", "", "", -1, "0,2,4-7"};

TEST_F(WorkersTopology, RoundTripThroughTheFile) {
  {
    auto writer = ResultsWriter::create(file(), test::sample_job(), test::sample_tasks(1), false);
    writer->add_worker(kGpuWorker);
    writer->add_worker(kCpuWorker);
    writer->finish("done", "2024-05-01T12:34:56Z");
  }
  const Results got = read_results(file());
  ASSERT_EQ(got.workers.size(), 2u);
  expect_worker(kGpuWorker, got.workers[0]);
  expect_worker(kCpuWorker, got.workers[1]);
}

struct Encoder : support::ByteEncoder<Encoder> {};
struct Decoder : support::ByteDecoder<Decoder> {
  using ByteDecoder::ByteDecoder;
};

TEST_F(WorkersTopology, RoundTripThroughTheByteCodec) {
  for (const WorkerRecord& want : {kGpuWorker, kCpuWorker, WorkerRecord{}}) {
    Encoder out;
    out.put(want);
    const std::string bytes = out.take();
    Decoder in(bytes, "test bytes");
    WorkerRecord have;
    in.get(have);
    EXPECT_TRUE(in.at_end());
    expect_worker(want, have);
  }
}

// The /workers row as it was before the placement fields, packed like the writer stores it.
struct OldWorkerRow {
  std::int32_t rank;
  const char* host;
  std::int32_t local_rank;
  const char* device;
  const char* gpu_name;
  const char* gpu_uuid;
};

// Replaces /workers of @p path with a dataset of the old row type holding @p rows.
void write_old_workers_table(const std::filesystem::path& path, const std::vector<OldWorkerRow>& rows) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(H5Ldelete(file, "workers", H5P_DEFAULT), 0);
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  H5Tset_cset(str, H5T_CSET_UTF8);
  const hid_t memory = H5Tcreate(H5T_COMPOUND, sizeof(OldWorkerRow));
  H5Tinsert(memory, "rank", offsetof(OldWorkerRow, rank), H5T_NATIVE_INT32);
  H5Tinsert(memory, "host", offsetof(OldWorkerRow, host), str);
  H5Tinsert(memory, "local_rank", offsetof(OldWorkerRow, local_rank), H5T_NATIVE_INT32);
  H5Tinsert(memory, "device", offsetof(OldWorkerRow, device), str);
  H5Tinsert(memory, "gpu_name", offsetof(OldWorkerRow, gpu_name), str);
  H5Tinsert(memory, "gpu_uuid", offsetof(OldWorkerRow, gpu_uuid), str);
  const hid_t stored = H5Tcopy(memory);
  H5Tpack(stored);
  const hsize_t n = rows.size();
  const hsize_t unlimited = H5S_UNLIMITED;
  const hid_t space = H5Screate_simple(1, &n, &unlimited);
  const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
  const hsize_t chunk = 64;
  H5Pset_chunk(create, 1, &chunk);
  const hid_t dataset = H5Dcreate2(file, "workers", stored, space, H5P_DEFAULT, create, H5P_DEFAULT);
  ASSERT_GE(dataset, 0);
  ASSERT_GE(H5Dwrite(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), 0);
  H5Dclose(dataset);
  H5Pclose(create);
  H5Sclose(space);
  H5Tclose(stored);
  H5Tclose(memory);
  H5Tclose(str);
  ASSERT_GE(H5Fclose(file), 0);
}

TEST_F(WorkersTopology, FileFromBeforeThePlacementFieldsStillReads) {
  {
    auto writer = ResultsWriter::create(file(), test::sample_job(), test::sample_tasks(1), false);
    writer->finish("done", "2024-05-01T12:34:56Z");
  }
  write_old_workers_table(file(), {{1, "node0", 0, "cuda:0", "NVIDIA H100", "GPU-1"}, {2, "node1", 0, "cpu", "", ""}});
  const Results got = read_results(file());
  ASSERT_EQ(got.workers.size(), 2u);
  expect_worker(WorkerRecord{1, "node0", 0, "cuda:0", "NVIDIA H100", "GPU-1", "", -1, ""}, got.workers[0]);
  expect_worker(WorkerRecord{2, "node1", 0, "cpu", "", "", "", -1, ""}, got.workers[1]);
}

}  // namespace
}  // namespace fastgpu::io
