package org.outlierlab.jobs.train;

import java.util.Locale;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.outlierlab.model.ModelConfig;

/**
 * Whether a training worker fits ND4J's off-heap limit, checked before training starts. The estimate counts the
 * parameters three times (values, two optimiser moments) plus once per step thread (each part of a split batch
 * has its own gradients), and one step's activations with the multiples SameDiff keeps per layer, shared among
 * the threads (measured: 1.1 GB for L=4, d=256, B=16, T=128, V=8192 on one thread; this gives 1.0 GB).
 */
final class MemoryCheck {
  private MemoryCheck() {}

  static long estimateBytes(ModelConfig c, int batch, DataType dtype, int threads) {
    long d = c.dModel();
    long v = c.vocabSize();
    long t = c.seqLen();
    long params = c.matrixParameters();
    long tokens = batch * t;
    long activations = tokens * (c.nLayers() * (30 * d + 8L * c.mlpWidth()) + 4 * v)
        + 10L * batch * c.nHeads() * t * t * c.nLayers();
    return ((3L + threads) * params + activations) * dtype.width();
  }

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MemoryCheck.class);

  /**
   * Fails, naming the settings to change, when {@code workersHere} workers of this shape exceed the limit; warns
   * when they come within a quarter of it, where JavaCPP runs the garbage collector on allocations and every step
   * slows (the 130M benchmark shape: 3.7 s a step at a 4 GB limit, 3.0 s at 10 GB).
   */
  static void require(ModelConfig c, int batch, DataType dtype, int threads, int workersHere) {
    long need = estimateBytes(c, batch, dtype, threads) * workersHere;
    long limit = Pointer.maxBytes();
    if (limit > 0 && need > limit) {
      throw new IllegalStateException(String.format(Locale.ROOT, "this configuration does not fit: %d worker(s) "
          + "of this model at train.batch_size = %d need about %.1f GiB of off-heap memory, and ND4J's limit here is "
          + "%.1f GiB. Lower train.batch_size (or the model size), or raise the limit: OFLAB_OFFHEAP_MEMORY with "
          + "bin/oflab, or -Dorg.bytedeco.javacpp.maxbytes plus spark.executor.memoryOverhead on a cluster.",
          workersHere, batch, need / 1073741824.0, limit / 1073741824.0));
    }
    if (limit > 0 && need > 0.75 * limit) {
      LOG.warn(String.format(Locale.ROOT, "%d worker(s) of this model need about %.1f GiB of ND4J's %.1f GiB off-heap "
          + "limit here; this close to it, garbage collection slows every step. Raise OFLAB_OFFHEAP_MEMORY (or "
          + "-Dorg.bytedeco.javacpp.maxbytes on a cluster).", workersHere, need / 1073741824.0, limit / 1073741824.0));
    }
  }
}
