package org.outlierlab.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.AdamW;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.optim.Optimizer;
import org.outlierlab.model.optim.RotatedAdaFactor;
import org.outlierlab.model.optim.Soap;
import org.outlierlab.model.train.TrainStep;

/**
 * What SOAP and rotated AdaFactor cost against AdamW, on the parameters of the training benchmark's small model
 * (Pre-LN, V=8192, d=256, 4 layers, 4 heads, T=128; float). Prints one JSON object.
 *
 * <ol>
 *   <li>The optimiser step alone, on random gradients. A rotated optimiser's first call (factors and their full
 *       eigendecompositions) is timed apart; of the next {@code steps} calls, every {@code frequency}-th refreshes
 *       the bases (power iteration and QR): the refresh's cost is the median refresh step minus the median of the
 *       others, and the amortised step is that median plus the refresh cost over the frequency.
 *   <li>The whole training step (TrainStep, batch B, random tokens) with AdamW and with SOAP, over {@code frequency}
 *       consecutive steps after one untimed step: exactly one refresh falls among SOAP's (its state continues from
 *       part 1, so no eigendecomposition is timed). The ratio of the means is SOAP's cost per step at that frequency.
 * </ol>
 * usage: OptimizerBenchmark &lt;steps&gt; &lt;batch&gt; &lt;frequency&gt; &lt;max_precond_dim&gt;
 */
public final class OptimizerBenchmark {
  private OptimizerBenchmark() {}

  static final ModelConfig MODEL = ModelConfig.of(ModelConfig.Block.PRE_LN, 8192, 256, 4, 4, 128);
  static final double TARGET = 1.3;

  public static void main(String[] a) throws Exception {
    int steps = Integer.parseInt(a[0]);
    int batch = Integer.parseInt(a[1]);
    int frequency = Integer.parseInt(a[2]);
    int maxPrecondDim = Integer.parseInt(a[3]);
    ObjectMapper json = new ObjectMapper();
    ObjectNode o = json.createObjectNode();
    o.put("impl", "outlier-lab (ND4J " + Nd4j.getBackend().getClass().getSimpleName() + ", java "
        + System.getProperty("java.version") + ")");
    o.put("threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
    o.put("model", "pre-ln L=4 d=256 H=4 T=128 V=8192, float");
    o.put("frequency", frequency);
    o.put("max_precond_dim", maxPrecondDim);

    Map<String, INDArray> params = new TransformerLM(MODEL, DataType.FLOAT, 0).parameters();
    o.put("parameters", params.values().stream().mapToLong(INDArray::length).sum());
    Map<String, Integer> factors = new TreeMap<>(); // factor size -> how many (the Shampoo side of each matrix)
    params.values().stream().filter(p -> p.rank() == 2).forEach(p -> {
      for (long n : p.shape()) {
        if (n <= maxPrecondDim) {
          factors.merge(String.valueOf(n), 1, Integer::sum);
        }
      }
    });
    o.set("factors_by_size", json.valueToTree(factors));

    ObjectNode adamw = optimizerSteps(json, new AdamW(0.9, 0.95, 1e-8, 0.1), params, steps, 0);
    Soap soap = new Soap(0.9, 0.95, -1, 1e-8, 0.1, frequency, maxPrecondDim);
    ObjectNode soapTimes = optimizerSteps(json, soap, params, steps, frequency);
    ObjectNode rotated = optimizerSteps(json,
        new RotatedAdaFactor(0.9, 0.95, -1, 1e-8, 0.1, frequency, maxPrecondDim), params, steps, frequency);
    double adamwStep = adamw.get("step_s_median").asDouble();
    for (ObjectNode r : new ObjectNode[] {soapTimes, rotated}) {
      r.put("amortised_vs_adamw", round(r.get("amortised_step_s").asDouble() / adamwStep));
    }
    ObjectNode optimizers = json.createObjectNode();
    optimizers.set("adamw", adamw);
    optimizers.set("soap", soapTimes);
    optimizers.set("rotated_adafactor", rotated);
    o.set("optimizer_step", optimizers);

    Map<String, INDArray> soapState = new LinkedHashMap<>();
    soap.state().forEach((k, v) -> soapState.put(k, v.dup()));
    double[] adamwTrain = trainSteps(() -> new AdamW(0.9, 0.95, 1e-8, 0.1), batch, frequency);
    double[] soapTrain = trainSteps(() -> {
      Soap s = new Soap(0.9, 0.95, -1, 1e-8, 0.1, frequency, maxPrecondDim);
      s.loadState(soapState);
      return s;
    }, batch, frequency);
    double ratio = mean(soapTrain) / mean(adamwTrain);
    ObjectNode train = json.createObjectNode();
    train.put("batch", batch);
    train.put("adamw_step_s_mean", round(mean(adamwTrain)));
    train.put("soap_step_s_mean", round(mean(soapTrain)));
    train.put("soap_vs_adamw", round(ratio));
    train.put("soap_vs_adamw_median", round(median(soapTrain) / median(adamwTrain)));
    train.put("target", TARGET);
    train.put("target_met", ratio <= TARGET);
    train.set("adamw_step_s", json.valueToTree(rounded(adamwTrain)));
    train.set("soap_step_s", json.valueToTree(rounded(soapTrain)));
    o.set("train_step", train);
    System.out.println(json.writeValueAsString(o));
  }

  /** Times one optimiser's steps on random gradients (a rotated one: its first call apart, then its refreshes). */
  static ObjectNode optimizerSteps(ObjectMapper json, Optimizer opt, Map<String, INDArray> params, int steps,
      int frequency) {
    ObjectNode r = json.createObjectNode();
    boolean rotated = frequency > 0;
    if (rotated) {
      r.put("start_s", round(time(opt, params))); // the factors and their eigendecompositions; no update
    }
    double[] seconds = new double[steps];
    for (int s = 0; s < steps; s++) {
      seconds[s] = time(opt, params);
    }
    // step s + 1 (1-based t) refreshes when t % frequency == 0
    double[] plain = rotated ? pick(seconds, frequency, false) : seconds;
    r.put("step_s_median", round(median(plain)));
    if (rotated) {
      double[] refreshing = pick(seconds, frequency, true);
      double refresh = median(refreshing) - median(plain);
      r.put("refresh_step_s_median", round(median(refreshing)));
      r.put("refresh_s", round(refresh));
      r.put("amortised_step_s", round(median(plain) + refresh / frequency));
    }
    r.set("step_s", json.valueToTree(rounded(seconds)));
    return r;
  }

  private static double time(Optimizer opt, Map<String, INDArray> params) {
    Map<String, INDArray> grads = new LinkedHashMap<>();
    params.forEach((k, p) -> grads.put(k, Nd4j.randn(DataType.FLOAT, p.shape()).muli(1e-3)));
    long start = System.nanoTime();
    opt.step(params, grads, 1e-4);
    return (System.nanoTime() - start) / 1e9;
  }

  private static double[] pick(double[] seconds, int frequency, boolean refreshing) {
    return java.util.stream.IntStream.range(0, seconds.length).filter(s -> ((s + 1) % frequency == 0) == refreshing)
        .mapToDouble(s -> seconds[s]).toArray();
  }

  /** Seconds of {@code count} training steps after one untimed step. */
  static double[] trainSteps(Supplier<Optimizer> optimizer, int batch, int count) {
    TransformerLM model = new TransformerLM(MODEL, DataType.FLOAT, 0);
    TrainStep step = new TrainStep(model, optimizer.get(), new LrSchedule(1e-4, 1, count + 1, LrSchedule.Decay.CONSTANT, 0), 1.0);
    Random random = new Random(0);
    double[] seconds = new double[count];
    for (int s = 0; s <= count; s++) {
      int[][] in = new int[batch][MODEL.seqLen()];
      int[][] out = new int[batch][MODEL.seqLen()];
      for (int i = 0; i < batch; i++) {
        for (int j = 0; j < MODEL.seqLen(); j++) {
          in[i][j] = random.nextInt(MODEL.vocabSize());
          out[i][j] = random.nextInt(MODEL.vocabSize());
        }
      }
      long start = System.nanoTime();
      step.run(s, in, out, Set.of());
      if (s > 0) {
        seconds[s - 1] = (System.nanoTime() - start) / 1e9;
      }
    }
    return seconds;
  }

  private static double median(double[] x) {
    double[] sorted = x.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double mean(double[] x) {
    return Arrays.stream(x).average().orElse(Double.NaN);
  }

  private static double round(double x) {
    return Math.round(x * 1e4) / 1e4;
  }

  private static double[] rounded(double[] x) {
    return Arrays.stream(x).map(OptimizerBenchmark::round).toArray();
  }
}
