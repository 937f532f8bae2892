package org.outlierlab.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.dataprep.shard.TokenShards;
import org.outlierlab.jobs.config.ConfigLoader;
import org.outlierlab.jobs.quant.QuantEvalSettings;
import org.outlierlab.jobs.quant.QuantTarget;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.graph.SiteTransforms;
import org.outlierlab.model.quant.Calibration;
import org.outlierlab.model.quant.Protocol;
import org.outlierlab.model.quant.QuantPlan;
import org.outlierlab.model.quant.Quantizer;
import org.outlierlab.model.train.TrainData;

/**
 * The Java side of bench/quant.sh: evaluates one checkpoint in full precision and under each protocol, as the
 * quant-eval job does (the same calibration, plans and models, in this process on {@code threads} threads, timed),
 * and writes what the PyTorch peer (bench/torch_quant.py) needs to repeat it independently: {@code java.json} (the
 * model's shape, each protocol's settings, calibrated activation grids, losses and seconds), {@code params/<name>.npy},
 * and {@code eval.npy} and
 * {@code calibration.npy} (int32 [batches, B, T + 1]).
 * usage: QuantCrossCheck OUT RUN_DIR STEP(-1: latest) BATCH EVAL_BATCHES SPLIT THREADS PROTOCOL...
 */
public final class QuantCrossCheck {
  private QuantCrossCheck() {}

  public static void main(String[] a) throws Exception {
    File out = new File(a[0]);
    long step = Long.parseLong(a[2]);
    int batch = Integer.parseInt(a[3]);
    int threads = Integer.parseInt(a[6]);
    var config = ConfigLoader.load(List.of(), Map.of("quant.runs", a[1], "quant.steps", step < 0 ? "[]" : "[" + step
        + "]", "quant.batch_size", a[3], "quant.eval_batches", a[4], "quant.split", a[5], "quant.protocols",
        String.join(",", Arrays.copyOfRange(a, 7, a.length))));
    QuantEvalSettings s = QuantEvalSettings.read(config);
    Configuration conf = new Configuration();
    QuantTarget t = QuantTarget.resolve(s, conf).get(0);
    int seq = t.model().seqLen();
    int[][][] eval = batches(TokenShards.firstRows(t.evalTokens(), s.split(), (long) s.evalBatches() * batch, conf),
        batch);
    int calibrationBatches = s.protocols().stream().mapToInt(p -> p.activations().calibrationBatches()).max().orElse(0);
    int[][][] calibration = batches(TokenShards.firstRows(t.trainTokens(), Splits.TRAIN,
        (long) Math.max(1, calibrationBatches) * batch, conf), batch);
    long tokens = (long) eval.length * batch * seq;

    var parameters = t.parameters(conf);
    TransformerLM fp = t.model(parameters, SiteTransforms.NONE);
    fp.useThreads(threads);
    List<QuantPlan> plans = Calibration.plans(fp, s.protocols(),
        Arrays.stream(calibration).map(rows -> TrainData.slice(rows, 0, seq)).toList());
    ObjectMapper json = new ObjectMapper();
    ObjectNode report = json.createObjectNode();
    report.put("dtype", t.dtype().toLowerCase(Locale.ROOT));
    report.put("tokens", tokens);
    ObjectNode model = report.putObject("model");
    model.put("block", t.block());
    model.put("layers", t.model().nLayers()).put("d", t.model().dModel()).put("heads", t.model().nHeads())
        .put("seq", seq).put("vocab", t.model().vocabSize()).put("embedding_scale", t.model().embeddingScale());
    long start = System.nanoTime();
    report.put("fp_loss", evaluate(fp, eval, seq) / tokens);
    report.put("fp_seconds", (System.nanoTime() - start) / 1e9);
    ArrayNode protocols = report.putArray("protocols");
    for (QuantPlan plan : plans) {
      TransformerLM q = t.model(parameters, plan.transforms());
      q.useThreads(threads);
      start = System.nanoTime();
      double loss = evaluate(q, eval, seq) / tokens;
      double seconds = (System.nanoTime() - start) / 1e9;
      ObjectNode p = json.valueToTree(spec(plan.protocol()));
      p.put("q_loss", loss).put("seconds", seconds).put("sites", plan.bySite().size());
      ObjectNode grids = p.putObject("static_activations"); // the calibrated grids, for the peer to compare with its own
      plan.bySite().forEach((site, quantizer) -> {
        if (quantizer instanceof Quantizer.Static st && !fp.site(site).weight()) {
          grids.putObject(site).put("scale", st.scale()[0]).put("zero_point", st.zeroPoint()[0]);
        }
      });
      protocols.add(p);
      System.err.printf(Locale.ROOT, "[quant-crosscheck] %s: ppl %.6f (fp %.6f), %.0f tokens/s%n",
          plan.protocol().name(), Math.exp(loss), Math.exp(report.get("fp_loss").asDouble()), tokens / seconds);
    }
    File params = new File(out, "params");
    if (!params.isDirectory() && !params.mkdirs()) {
      throw new IOException("cannot create " + params);
    }
    for (Map.Entry<String, INDArray> e : fp.parameters().entrySet()) {
      Nd4j.writeAsNumpy(e.getValue().dup('c'), new File(params, e.getKey() + ".npy")); // dup: a view's own order
    }
    Nd4j.writeAsNumpy(Nd4j.createFromArray(eval), new File(out, "eval.npy"));
    Nd4j.writeAsNumpy(Nd4j.createFromArray(calibration), new File(out, "calibration.npy"));
    json.writerWithDefaultPrettyPrinter().writeValue(new File(out, "java.json"), report);
  }

  /** The protocol as the peer reads it: the names conf/defaults.conf gives its keys. */
  private static Map<String, Object> spec(Protocol p) {
    Map<String, Object> weights = Map.of("bits", p.weights().bits(), "granularity", lower(p.weights().granularity()),
        "range", lower(p.weights().range()));
    Protocol.Activations a = p.activations();
    Map<String, Object> activations = Map.of("bits", a.bits(), "granularity", lower(a.granularity()),
        "symmetric", a.symmetric(), "calibration_batches", a.calibrationBatches(), "momentum", a.momentum(),
        "percentile", a.percentile());
    return Map.of("name", p.name(), "weights", weights, "activations", activations, "weight_sites", p.weightSites(),
        "activation_sites", p.activationSites());
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  private static double evaluate(TransformerLM model, int[][][] batches, int seq) {
    double sum = 0;
    for (int[][] rows : batches) {
      sum += model.lossSum(TrainData.slice(rows, 0, seq), TrainData.slice(rows, 1, seq));
    }
    return sum;
  }

  private static int[][][] batches(int[][] rows, int batch) {
    List<int[][]> out = new ArrayList<>();
    for (int from = 0; from + batch <= rows.length; from += batch) {
      out.add(Arrays.copyOfRange(rows, from, from + batch));
    }
    return out.toArray(new int[0][][]);
  }
}
