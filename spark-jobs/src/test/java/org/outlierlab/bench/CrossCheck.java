package org.outlierlab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.metrics.LayerStats;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.AdamW;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.train.ShardStream;
import org.outlierlab.model.train.TrainData;
import org.outlierlab.model.train.TrainStep;

/**
 * The cross-check's Outlier Lab side (bench/crosscheck.sh; the peer is bench/torch_crosscheck.py). Trains a model
 * of the given block on data-prep's token rows for N steps with the train job's defaults (AdamW 0.9/0.999/1e-8,
 * weight decay 0.1 on matrices, clipping at 1, linear warm-up over 5% of the steps then linear decay to 0), and
 * writes into the output directory what the peer needs to repeat the run exactly: {@code params/<name>.npy} (the
 * initial parameters, in the project's layout: a linear weight is [in, out]), {@code batches.npy} (int32
 * [steps, batch, seq + 1]: the rows of every step, inputs and next-token targets), {@code probe.npy} (int32
 * [probe, seq + 1]: the first validation rows); and {@code java.json}: the settings, each step's loss, learning
 * rate and gradient norm (before clipping), and, for the model after 0, N/2 and N updates, the kurtosis (Eq 1,
 * SCIENCE.md §1.2) of the residual stream entering every block and the unembedding on the probe inputs.
 * usage: CrossCheck <out> <tokens> <block> <float|double> <steps> <d> <layers> <heads> <batch> <lr> <probe>
 */
public final class CrossCheck {
  private static final double WARMUP_FRACTION = 0.05;
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double EPS = 1e-8;
  private static final double WEIGHT_DECAY = 0.1;
  private static final double CLIP = 1.0;

  private CrossCheck() {}

  public static void main(String[] a) throws Exception {
    File out = new File(a[0]);
    String tokens = a[1];
    ModelConfig.Block block = ModelConfig.Block.valueOf(a[2].toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    DataType dtype = switch (a[3]) {
      case "float" -> DataType.FLOAT;
      case "double" -> DataType.DOUBLE;
      default -> throw new IllegalArgumentException("dtype must be float or double, not " + a[3]);
    };
    int steps = Integer.parseInt(a[4]);
    int d = Integer.parseInt(a[5]);
    int layers = Integer.parseInt(a[6]);
    int heads = Integer.parseInt(a[7]);
    int batch = Integer.parseInt(a[8]);
    double peak = Double.parseDouble(a[9]);
    int probeRows = Integer.parseInt(a[10]);

    Configuration conf = new Configuration();
    JsonNode manifest = new ObjectMapper().readTree(new File(tokens, "_manifest.json"));
    int seq = manifest.get("row_length").asInt() - 1;
    int vocab = manifest.get("vocab_size").asInt();
    int[][] validation = TrainData.read(tokens, "validation", seq, conf);
    int[][] probe = Arrays.copyOf(validation, Math.min(probeRows, validation.length));
    int[][][] batches = new int[steps][][];
    ShardStream train = TrainData.stream(tokens, seq, batch, 1, 0, 0, 0, conf); // as a one-worker train job draws
    for (int k = 0; k < steps; k++) {
      batches[k] = train.batch(k);
    }

    ModelConfig config = ModelConfig.of(block, vocab, d, layers, heads, seq);
    TransformerLM model = new TransformerLM(config, dtype, 0);
    long warmup = Math.max(1, Math.round(WARMUP_FRACTION * steps)); // as the train job (TrainConfig)
    LrSchedule schedule = new LrSchedule(peak, warmup, steps, LrSchedule.Decay.LINEAR, 0.0);
    TrainStep step = new TrainStep(model, new AdamW(BETA1, BETA2, EPS, WEIGHT_DECAY), schedule, CLIP);

    File params = new File(out, "params");
    if (!params.isDirectory() && !params.mkdirs()) {
      throw new IOException("cannot create " + params);
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode report = json.createObjectNode();
    ArrayNode shapes = report.putObject("settings").putArray("params");
    for (Map.Entry<String, INDArray> p : model.parameters().entrySet()) {
      // dup('c'): writeAsNumpy writes a view's underlying buffer in order, ignoring its strides (a transposed
      // view comes out untransposed), and SameDiff may hand out views.
      Nd4j.writeAsNumpy(p.getValue().dup('c'), new File(params, p.getKey() + ".npy"));
      shapes.addObject().put("name", p.getKey()).set("shape", json.valueToTree(p.getValue().shape()));
    }
    Nd4j.writeAsNumpy(Nd4j.createFromArray(batches), new File(out, "batches.npy"));
    Nd4j.writeAsNumpy(Nd4j.createFromArray(probe), new File(out, "probe.npy"));

    Set<String> sites = new LinkedHashSet<>();
    for (int l = 0; l < layers; l++) {
      sites.add("resid_attn_in_" + l);
    }
    sites.add("unembed_in");
    int[][] probeInputs = TrainData.slice(probe, 0, seq);
    List<Integer> probeSteps = List.of(0, steps / 2, steps);
    ObjectNode kurtosis = json.createObjectNode();
    double[] loss = new double[steps];
    double[] lr = new double[steps];
    double[] gradNorm = new double[steps];
    double[] seconds = new double[steps];
    for (int k = 0; k <= steps; k++) {
      if (probeSteps.contains(k)) {
        kurtosis.set(Integer.toString(k), json.valueToTree(kurtosis(model.activations(probeInputs, sites))));
      }
      if (k == steps) {
        break;
      }
      long start = System.nanoTime();
      TrainStep.Result r = step.run(k, TrainData.slice(batches[k], 0, seq), TrainData.slice(batches[k], 1, seq),
          Set.of());
      seconds[k] = (System.nanoTime() - start) / 1e9;
      loss[k] = r.loss();
      lr[k] = r.lr();
      gradNorm[k] = r.gradNorm();
    }

    ObjectNode s = (ObjectNode) report.get("settings");
    s.put("impl", "outlier-lab (ND4J " + Nd4j.getBackend().getClass().getSimpleName() + ", java "
        + System.getProperty("java.version") + ")");
    s.put("block", a[2]).put("dtype", a[3]).put("tokens", tokens).put("vocab", vocab).put("d", d)
        .put("layers", layers).put("heads", heads).put("seq", seq).put("batch", batch).put("steps", steps);
    s.put("lr", peak).put("warmup", warmup).put("min_lr", 0.0).put("beta1", BETA1).put("beta2", BETA2)
        .put("eps", EPS).put("weight_decay", WEIGHT_DECAY).put("clip", CLIP);
    s.set("sites", json.valueToTree(sites));
    report.set("loss", json.valueToTree(loss));
    report.set("lr", json.valueToTree(lr));
    report.set("grad_norm", json.valueToTree(gradNorm));
    report.set("kurtosis", kurtosis);
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    report.put("step_s_median", steps == 0 ? Double.NaN : sorted[steps / 2]);
    json.writerWithDefaultPrettyPrinter().writeValue(new File(out, "java.json"), report);
  }

  /** Eq 1 kurtosis of each captured tensor, its token rows pooled over batch and sequence (LayerStats, float rows). */
  private static List<Double> kurtosis(Map<String, INDArray> activations) {
    List<Double> out = new ArrayList<>();
    for (INDArray x : activations.values()) {
      int width = (int) x.size(x.rank() - 1);
      float[] values = x.dup('c').castTo(DataType.FLOAT).data().asFloat();
      LayerStats stats = new LayerStats(width, false);
      for (int i = 0; i < values.length; i += width) {
        stats.add(Arrays.copyOfRange(values, i, i + width));
      }
      out.add(stats.metrics().get("kurtosis"));
    }
    return out;
  }
}
