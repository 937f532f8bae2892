package org.outlierlab.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.blas.BlasKernels;
import org.outlierlab.model.optim.AdamW;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.train.TrainStep;

/**
 * Training throughput of the Pre-LN model on random tokens (the benchmark's peer runs the same model in
 * PyTorch), and this machine's sgemm peak through ND4J, for the fraction of peak the training step reaches.
 * Prints one JSON object, naming the BLAS path it ran on (the system property {@code oflab.blas.kernels}, a value of
 * blas.kernels; default auto). Untimed warm-up steps run until both {@code warmup} steps and {@code warmupSeconds} have
 * passed: the JIT compiles SameDiff's Java side for the first 30–40 s, taking a share of the cores the step's
 * threads need. usage: TrainBenchmark <label> <layers> <d> <heads> <seq> <batch> <vocab> <steps> <warmup> <threads>
 * <warmupSeconds>
 */
public final class TrainBenchmark {
  private TrainBenchmark() {}

  public static void main(String[] a) throws Exception {
    String label = a[0];
    int layers = Integer.parseInt(a[1]);
    int d = Integer.parseInt(a[2]);
    int heads = Integer.parseInt(a[3]);
    int t = Integer.parseInt(a[4]);
    int b = Integer.parseInt(a[5]);
    int vocab = Integer.parseInt(a[6]);
    int steps = Integer.parseInt(a[7]);
    int warmup = Integer.parseInt(a[8]);
    int threads = Integer.parseInt(a[9]);
    double warmupSeconds = Double.parseDouble(a[10]);
    BlasKernels.Choice blas = BlasKernels.apply(System.getProperty("oflab.blas.kernels", "auto"));
    ModelConfig config = ModelConfig.of(ModelConfig.Block.PRE_LN, vocab, d, layers, heads, t);
    TransformerLM model = new TransformerLM(config, DataType.FLOAT, 0);
    model.useThreads(threads);
    TrainStep step = new TrainStep(model, new AdamW(0.9, 0.999, 1e-8, 0.1),
        new LrSchedule(1e-4, 1, Long.MAX_VALUE, LrSchedule.Decay.CONSTANT, 0), 1.0);
    Random random = new Random(0);
    long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
    int warmupSteps = 0;
    while (warmupSteps < warmup || System.nanoTime() < warmupEnd) {
      runStep(step, warmupSteps++, random, b, t, vocab);
    }
    double[] seconds = new double[steps];
    for (int s = 0; s < steps; s++) {
      long start = System.nanoTime();
      runStep(step, warmupSteps + s, random, b, t, vocab);
      seconds[s] = (System.nanoTime() - start) / 1e9;
    }
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    double median = sorted[steps / 2];
    long nonEmbedding = model.parameters().entrySet().stream()
        .filter(e -> !e.getKey().equals(TransformerLM.EMBEDDING) && !e.getKey().equals(TransformerLM.POSITIONS))
        .mapToLong(e -> e.getValue().length()).sum();
    double flopsPerToken = 6.0 * nonEmbedding + 12.0 * layers * t * d;
    double tokensPerS = b * (double) t / median;
    double peak = gemmPeak(threads);
    ObjectMapper json = new ObjectMapper();
    ObjectNode o = json.createObjectNode();
    o.put("impl", "outlier-lab (ND4J " + Nd4j.getBackend().getClass().getSimpleName() + ", java "
        + System.getProperty("java.version") + ")");
    o.put("blas", blas.describe());
    o.put("config", label);
    o.put("threads", threads);
    o.put("warmup_steps", warmupSteps);
    o.put("step_s_median", median);
    o.put("tokens_per_s", Math.round(tokensPerS));
    o.put("model_gflops_per_s", Math.round(flopsPerToken * tokensPerS / 1e9 * 10) / 10.0);
    o.put("sgemm_peak_gflops_per_s", Math.round(peak * 10) / 10.0);
    o.put("fraction_of_peak", Math.round(flopsPerToken * tokensPerS / 1e9 / peak * 1000) / 1000.0);
    o.set("step_s", json.valueToTree(seconds));
    System.out.println(json.writeValueAsString(o));
  }

  /** One training step on a batch of random tokens (drawing them is not timed apart: it takes microseconds). */
  private static void runStep(TrainStep step, long index, Random random, int b, int t, int vocab) {
    int[][] in = new int[b][t];
    int[][] out = new int[b][t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        in[i][j] = random.nextInt(vocab);
        out[i][j] = random.nextInt(vocab);
      }
    }
    step.run(index, in, out, Set.of());
  }

  /**
   * The machine's sgemm peak as the training step can use it: the median GFLOP/s of 2048³ single-precision products
   * through ND4J, run on {@code threads} threads at once (each product on one core, as the step's parts run) and
   * summed over them.
   */
  static double gemmPeak(int threads) throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<Double>> rates = new java.util.ArrayList<>();
      for (int i = 0; i < threads; i++) {
        rates.add(pool.submit(TrainBenchmark::gemmRate));
      }
      double total = 0;
      for (var rate : rates) {
        total += rate.get();
      }
      return total;
    } finally {
      pool.shutdown();
    }
  }

  private static double gemmRate() {
    int n = 2048;
    INDArray x = Nd4j.rand(DataType.FLOAT, n, n);
    INDArray y = Nd4j.rand(DataType.FLOAT, n, n);
    INDArray z = Nd4j.create(DataType.FLOAT, n, n);
    double[] rates = new double[5];
    for (int r = 0; r < 6; r++) {
      long start = System.nanoTime();
      Nd4j.gemm(x, y, z, false, false, 1.0, 0.0);
      double s = (System.nanoTime() - start) / 1e9;
      if (r > 0) {
        rates[r - 1] = 2.0 * n * n * n / s / 1e9;
      }
    }
    Arrays.sort(rates);
    return rates[2];
  }
}
