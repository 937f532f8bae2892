package org.outlierlab.jobs.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.dataprep.shard.TokenShards;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.sql.WarehouseViews;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.graph.SiteTransforms;
import org.outlierlab.model.train.TrainData;

/**
 * quant-eval through the CLI, as a user runs it, on two tiny runs (Pre-LN and OP) trained by the test: the
 * full-precision perplexity equals a plain evaluation, the protocols quantise exactly the sites they name, the
 * result does not depend on the number of tasks, a rerun replaces its rows, and bad settings fail before any work.
 */
class QuantEvalJobTest {
  @TempDir static Path dir;
  static String warehouse;
  static String tokens;
  private static final int BATCH = 4;

  @BeforeAll
  static void trainTwoRuns() throws Exception {
    Path corpus = Files.createDirectories(dir.resolve("corpus"));
    for (int i = 0; i < 24; i++) {
      Files.writeString(corpus.resolve("f" + i + ".py"), ("def f" + i + "(x):\n    return x * " + i + " - 1\n")
          .repeat(12));
    }
    tokens = dir.resolve("tokens").toString();
    warehouse = dir.resolve("wh").toString();
    Main.run(new String[] {"data-prep", "--master", "local[2]", "--spark.ui.enabled", "false", "--input",
        corpus.toString(), "--mode", "pack", "--seq_len", "16", "--validation_fraction", "0.25", "--out", tokens});
    for (String block : List.of("pre-ln", "op")) {
      Main.run(new String[] {"train", "--master", "local[2]", "--spark.ui.enabled", "false", "--tokens", tokens,
          "--warehouse", warehouse, "--run_id", block, "--steps", "10", "--batch_size", "8", "--log_interval", "5",
          "--eval_interval", "0", "--checkpoint_interval", "5", "--snapshot_interval", "0", "--lr", "0.01",
          "--model.block", block, "--model.d_model", "16", "--model.n_layers", "2", "--model.n_heads", "2"});
    }
  }

  private static QuantEvalResult quantEval(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("quant-eval", "--master", "local[2]", "--spark.ui.enabled", "false",
        "--runs", warehouse, "--warehouse", warehouse, "--batch_size", String.valueOf(BATCH),
        "--protocol.paper.activations.calibration_batches", "3"));
    args.addAll(List.of(extra));
    List<Object> results = new ArrayList<>();
    assertEquals(0, Main.run(args.toArray(new String[0]), results::add));
    return (QuantEvalResult) results.get(0);
  }

  private static List<Row> query(String sql) {
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      WarehouseViews.scan(warehouse, "test", new Configuration()).register(spark);
      return spark.sql(sql).collectAsList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      spark.stop();
    }
  }

  @Test
  void fullPrecisionEqualsAPlainEvaluationAndTheResultDoesNotDependOnTheTasks() throws Exception {
    QuantEvalResult result = quantEval("--tasks", "1", "--steps", "[5, 10]");
    assertEquals(8, result.perplexities().size(), result.summary().toString());
    Configuration conf = new Configuration();
    int[][] rows = TokenShards.firstRows(tokens, "validation", Long.MAX_VALUE, conf); // in the job's order
    int batches = rows.length / BATCH;
    assertTrue(batches >= 2, "the test needs at least two evaluation batches: " + rows.length + " rows");
    for (QuantEvalResult.Perplexity p : result.perplexities()) {
      QuantTarget t = target(p.runId(), p.step());
      TransformerLM plain = t.load(SiteTransforms.NONE, conf);
      double sum = 0;
      for (int b = 0; b < batches; b++) {
        int[][] batch = java.util.Arrays.copyOfRange(rows, b * BATCH, (b + 1) * BATCH);
        sum += plain.lossSum(TrainData.slice(batch, 0, 16), TrainData.slice(batch, 1, 16));
      }
      assertEquals(Math.exp(sum / ((long) batches * BATCH * 16)), p.fpPpl(), 0, "fp is the plain evaluation");
      assertEquals((long) batches * BATCH * 16, p.tokens());
      assertTrue(Double.isFinite(p.qPpl()) && p.qPpl() != p.fpPpl(), p.toString());
    }
    List<Row> eval = query("SELECT run_id, step, protocol, fp_ppl, q_ppl, delta_ppl FROM quant_eval ORDER BY run_id,"
        + " step, protocol");
    assertEquals(8, eval.size(), "2 runs x 2 steps x 2 protocols");
    assertEquals(5L, eval.get(0).getLong(1), "step is a number in the view");
    assertEquals(eval.get(0).getDouble(4) - eval.get(0).getDouble(3), eval.get(0).getDouble(5), 1e-12);
    List<Row> errors = query("SELECT * FROM quant_error ORDER BY run_id, step, protocol, site");

    QuantEvalResult threeTasks = quantEval("--tasks", "3", "--steps", "[5, 10]");
    assertEquals(result.perplexities(), threeTasks.perplexities(), "bit-identical over 1 and 3 tasks");
    assertEquals(errors, query("SELECT * FROM quant_error ORDER BY run_id, step, protocol, site"),
        "the same calibration, and the rerun replaced its rows");
    assertEquals(8, query("SELECT * FROM quant_eval").size(), "replaced, not duplicated");
  }

  /** The sites each protocol quantises in the Pre-LN and OP models, listed by hand from conf/defaults.conf. */
  @Test
  void protocolsQuantiseExactlyTheSitesTheyName() throws Exception {
    quantEval("--steps", "[10]");
    Map<String, List<String>> expected = new TreeMap<>();
    List<String> linear = List.of("attn_q_in", "attn_q_weight", "attn_k_in", "attn_k_weight", "attn_v_in",
        "attn_v_weight", "attn_o_in", "attn_o_weight", "mlp_up_in", "mlp_up_weight", "mlp_down_in",
        "mlp_down_weight");
    for (String run : List.of("pre-ln", "op")) {
      List<String> deploy = new ArrayList<>();
      List<String> paper = new ArrayList<>();
      for (int l = 0; l < 2; l++) {
        for (String kind : linear) {
          deploy.add(kind + "_" + l);
        }
        boolean preLn = run.equals("pre-ln");
        List<String> kinds = new ArrayList<>(List.of("resid_attn_in"));
        kinds.addAll(preLn ? List.of("norm_attn_out") : List.of());
        kinds.addAll(List.of("attn_q_in", "attn_q_weight", "attn_k_in", "attn_k_weight", "attn_v_in", "attn_v_weight"));
        kinds.addAll(preLn ? List.of() : List.of("q_norm_out", "k_norm_out")); // OP's QK-Norm
        kinds.addAll(List.of("attn_scores", "attn_probs", "attn_context", "attn_o_in", "attn_o_weight",
            "resid_mlp_in"));
        kinds.addAll(preLn ? List.of("norm_mlp_out") : List.of());
        kinds.addAll(List.of("mlp_up_in", "mlp_up_weight", "mlp_down_in", "mlp_down_weight"));
        for (String kind : kinds) {
          paper.add(kind + "_" + l);
        }
      }
      paper.add("unembed_in"); // the LM head's input; its weight stays in full precision
      expected.put(run + " deploy", deploy);
      expected.put(run + " paper", paper);
    }
    Map<String, List<String>> actual = new TreeMap<>();
    for (Row r : query("SELECT run_id, protocol, site FROM quant_error WHERE step = 10 ORDER BY run_id, protocol, layer")) {
      actual.computeIfAbsent(r.getString(0) + " " + r.getString(1), k -> new ArrayList<>()).add(r.getString(2));
    }
    expected.forEach((key, sites) -> assertEquals(new java.util.TreeSet<>(sites),
        new java.util.TreeSet<>(actual.get(key)), key));
    List<Row> probs = query("SELECT scale, zero_point, max_abs FROM quant_error WHERE protocol = 'paper' AND"
        + " site = 'attn_probs_0' AND run_id = 'op' AND step = 10");
    assertTrue(probs.get(0).getDouble(2) <= 1 && probs.get(0).getDouble(1) == 0, "probabilities: in [0, 1]");
  }

  @Test
  void aProtocolOfOneselfNeedsNoCodeAndFewerBitsCostMore() throws Exception {
    Path conf = dir.resolve("w4a8.conf");
    Files.writeString(conf, "quant.protocol.w4a8 = ${quant.protocol.paper} { weights.bits = 4 }\n"
        + "quant.protocol.w3a3 = ${quant.protocol.paper} { weights.bits = 3, activations.bits = 3 }\n"
        + "quant.protocol.w16a16 = ${quant.protocol.paper} { weights.bits = 16, activations.bits = 16 }\n");
    QuantEvalResult r = quantEval("--conf", conf.toString(), "--protocols", "[paper, w4a8, w3a3, w16a16]",
        "--steps", "[10]");
    for (String run : List.of("pre-ln", "op")) {
      Map<String, QuantEvalResult.Perplexity> byProtocol = new TreeMap<>();
      r.perplexities().stream().filter(p -> p.runId().equals(run)).forEach(p -> byProtocol.put(p.protocol(), p));
      double fp = byProtocol.get("paper").fpPpl();
      assertTrue(byProtocol.get("w3a3").deltaPpl() > 10 * Math.abs(byProtocol.get("paper").deltaPpl()),
          byProtocol.toString());
      assertEquals(fp, byProtocol.get("w16a16").qPpl(), 1e-3 * fp, "16 bits: nearly full precision");
    }
    List<Row> bits = query("SELECT DISTINCT weight_bits, activation_bits FROM quant_eval WHERE protocol = 'w4a8'");
    assertEquals(List.of(org.apache.spark.sql.RowFactory.create(4, 8)), bits, "the file's protocol, as recorded");
  }

  @Test
  void badSettingsFailBeforeAnyWorkNamingTheKey() {
    ConfigError unknown = assertThrows(ConfigError.class, () -> quantEval("--protocols", "[paper, int3]"));
    assertTrue(unknown.getMessage().contains("quant.protocol.int3") && unknown.getMessage().contains("deploy"),
        unknown.getMessage());
    ConfigError step = assertThrows(ConfigError.class, () -> quantEval("--steps", "[7]"));
    assertTrue(step.getMessage().contains("[5, 10]"), step.getMessage());
    ConfigError site = assertThrows(ConfigError.class, () -> quantEval("--protocol.deploy.activation_sites",
        "[attn_q_in, attn_qq_in]"));
    assertTrue(site.getMessage().contains("quant.protocol.deploy.activation_sites") && site.getMessage()
        .contains("attn_scores"), site.getMessage());
    ConfigError tokenScales = assertThrows(ConfigError.class, () -> quantEval(
        "--protocol.deploy.activations.symmetric", "false"));
    assertTrue(tokenScales.getMessage().contains("granularity = token"), tokenScales.getMessage());
  }

  private static QuantTarget target(String runId, long step) throws java.io.IOException {
    com.typesafe.config.Config config = org.outlierlab.jobs.config.ConfigLoader.load(List.of(),
        Map.of("quant.runs", warehouse + "/runs/" + runId, "quant.steps", "[" + step + "]"));
    return QuantTarget.resolve(QuantEvalSettings.read(config), new Configuration()).get(0);
  }
}
