package org.outlierlab.jobs.grid;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.outlierlab.dataprep.Manifest;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.metrics.MetricsJob;
import org.outlierlab.jobs.metrics.MetricsJobSettings;
import org.outlierlab.jobs.quant.QuantEvalJob;
import org.outlierlab.jobs.quant.QuantEvalSettings;
import org.outlierlab.jobs.quant.QuantTables;
import org.outlierlab.jobs.train.TrainJob;
import org.outlierlab.jobs.train.TrainJobSettings;
import org.outlierlab.jobs.train.TrainResult;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.run.Checkpoint;
import org.outlierlab.model.run.RunInfo;
import org.outlierlab.model.run.RunLayout;
import org.outlierlab.model.train.TrainSettings;
import org.outlierlab.model.train.TrainStep;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The grid job: trains every point of a grid, one after another, then runs the metrics job (and quant-eval, when
 * {@code grid.quant_eval}) over its runs. Safe to rerun: a finished point is skipped, an unfinished one resumed
 * from its latest checkpoint, and one that diverged or stopped on an outlier alarm is left as it ended (training is
 * deterministic, so it would end the same way; delete its run directory to train it again). A point that fails is
 * reported and the others go on; the job then fails, naming the failed points.
 */
public final class GridJob {
  private static final Logger LOG = LoggerFactory.getLogger(GridJob.class);
  /** Statuses a run ends in for good: training again would end the same way. */
  private static final List<String> ENDED = List.of("diverged", "outliers");

  private GridJob() {}

  /** How a point stands before the job, and what the job did with it. */
  public record Outcome(GridPoint point, String before, String result, double lastValLoss) {}

  public static GridResult run(GridSettings s) throws IOException {
    Configuration conf = new Configuration();
    List<String> states = new ArrayList<>();
    for (TrainJobSettings t : s.train()) {
      states.add(state(t.run(), conf));
    }
    LOG.info("grid {}: {}, runs in {}/runs", s.name(), points(s.points().size()), s.warehouse());
    if (s.dryRun()) {
      List<String> lines = budget(s, states, conf);
      lines.forEach(LOG::info);
      return new GridResult(s.name(), List.of(), List.of(), List.of(), true);
    }
    for (TrainJobSettings t : s.train()) { // before any work: every point's tokens are there
      Manifest.read(t.run().tokensDir(), "train.tokens", conf);
    }
    List<Outcome> outcomes = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    for (int i = 0; i < s.points().size(); i++) {
      GridPoint p = s.points().get(i);
      TrainJobSettings t = s.train().get(i);
      String before = states.get(i);
      LOG.info("grid {}: point {}/{}, run {} ({}): {}", s.name(), i + 1, s.points().size(), p.runId(), p.label(),
          before);
      if (ENDED.contains(before)) {
        outcomes.add(new Outcome(p, before, "skipped: " + before, Double.NaN));
        continue;
      }
      boolean exists = !before.equals("new");
      try {
        TrainResult r = TrainJob.run(t.withResume(exists));
        r.summary().forEach(line -> LOG.info("grid {}: {}", p.runId(), line));
        if (r.trained()) {
          changed.add(t.run().runDir());
        }
        String done = r.outliers() ? "stopped by the outlier alarm at step " + r.steps()
            : r.trained() ? "trained to step " + r.steps() : "finished";
        outcomes.add(new Outcome(p, before, done, r.lastValLoss()));
      } catch (TrainStep.DivergedException e) { // a result of the point (a learning rate too high), not a failure
        LOG.warn("grid {}: point {} diverged: {}", s.name(), p.runId(), e.getMessage());
        changed.add(t.run().runDir());
        outcomes.add(new Outcome(p, before, "diverged", Double.NaN));
      } catch (Exception e) { // reported with the others at the end; the remaining points go on
        String why = Main.describe(e);
        LOG.error("grid {}: point {} failed: {}", s.name(), p.runId(), why);
        LOG.debug("point failure", e);
        outcomes.add(new Outcome(p, before, "failed: " + why, Double.NaN));
      }
    }
    List<String> runDirs = s.train().stream().map(t -> t.run().runDir()).toList();
    List<String> measured = s.metrics() ? metrics(s, runDirs, changed, conf) : List.of();
    List<String> evaluated = s.quantEval() ? quantEval(s, runDirs, changed, conf) : List.of();
    GridResult result = new GridResult(s.name(), outcomes, measured, evaluated, false);
    result.summary().forEach(LOG::info);
    List<String> failed = outcomes.stream().filter(o -> o.result().startsWith("failed")).map(o -> o.point().runId())
        .toList();
    if (!failed.isEmpty()) {
      throw new PointsFailedException("grid " + s.name() + ": " + failed.size() + " of " + points(s.points().size())
          + " failed (" + String.join(", ", failed) + "); the reasons are above. Fix them and run the same"
          + " command again: finished points are skipped, the others resumed");
    }
    return result;
  }

  private static String points(int n) {
    return n + (n == 1 ? " point" : " points");
  }

  /** Some points of the grid failed; the others were trained. */
  public static final class PointsFailedException extends RuntimeException {
    PointsFailedException(String message) {
      super(message);
    }
  }

  /** "new", "finished", "diverged", "outliers", or how far an unfinished run got. */
  static String state(TrainSettings run, Configuration conf) throws IOException {
    Path dir = new Path(run.runDir());
    if (!dir.getFileSystem(conf).exists(dir)) {
      return "new";
    }
    Optional<String> status = RunInfo.status(run.runDir(), conf);
    var checkpoints = Checkpoint.files(new RunLayout(run.runDir()).checkpoints(), conf);
    long step = checkpoints.isEmpty() ? 0 : checkpoints.lastKey();
    if (status.isPresent() && ENDED.contains(status.get())) {
      return status.get();
    }
    if (step >= run.steps()) {
      return "finished";
    }
    return "to resume from step " + step + (status.isPresent() ? " (" + status.get() + ")" : "");
  }

  /** The metrics job over the runs trained now and those that have snapshots but no layer_metrics yet. */
  private static List<String> metrics(GridSettings s, List<String> runDirs, List<String> changed, Configuration conf)
      throws IOException {
    List<String> runs = new ArrayList<>();
    for (String dir : runDirs) {
      Path snapshots = new RunLayout(dir).snapshots();
      boolean has = snapshots.getFileSystem(conf).exists(snapshots);
      if (has && (changed.contains(dir) || !hasPartition(s.warehouse() + "/layer_metrics", dir, conf))) {
        runs.add(dir);
      }
    }
    if (!runs.isEmpty()) {
      LOG.info("grid {}: metrics over {} runs", s.name(), runs.size());
      MetricsJob.run(MetricsJobSettings.read(GridSettings.tablesConfig(s.config(), runs, s.warehouse())));
    }
    return runs;
  }

  /** Quant-eval over the finished runs trained now and those without quant_eval rows yet. */
  private static List<String> quantEval(GridSettings s, List<String> runDirs, List<String> changed,
      Configuration conf) throws IOException {
    List<String> runs = new ArrayList<>();
    for (int i = 0; i < runDirs.size(); i++) {
      String dir = runDirs.get(i);
      boolean finished = state(s.train().get(i).run(), conf).equals("finished");
      if (finished && (changed.contains(dir) || !hasPartition(s.warehouse() + "/" + QuantTables.EVAL, dir, conf))) {
        runs.add(dir);
      }
    }
    if (!runs.isEmpty()) {
      LOG.info("grid {}: quant-eval over {} runs", s.name(), runs.size());
      QuantEvalJob.run(QuantEvalSettings.read(GridSettings.tablesConfig(s.config(), runs, s.warehouse())));
    }
    return runs;
  }

  /** Whether {@code table} (partitioned by run_id) has rows of the run in {@code runDir}. */
  private static boolean hasPartition(String table, String runDir, Configuration conf) throws IOException {
    Path partition = new Path(table, "run_id=" + new Path(runDir).getName());
    return partition.getFileSystem(conf).exists(partition);
  }

  /** The dry run's table: each point's state and compute (tokens, parameters, 6ND), and the totals. */
  private static List<String> budget(GridSettings s, List<String> states, Configuration conf) {
    List<String> lines = new ArrayList<>();
    lines.add(String.format(Locale.ROOT, "%-4s %-36s %-32s %12s %12s %10s  %s", "#", "run_id", "state", "tokens",
        "parameters", "FLOP", "point"));
    double tokens = 0;
    double flop = 0;
    boolean allKnown = true;
    for (int i = 0; i < s.points().size(); i++) {
      TrainJobSettings t = s.train().get(i);
      GridPoint p = s.points().get(i);
      String tokenText = "?";
      String paramText = "?";
      String flopText = "?";
      try {
        JsonNode manifest = Manifest.read(t.run().tokensDir(), "train.tokens", conf);
        ModelConfig m = t.model().forData(manifest.get("vocab_size").asInt(), manifest.get("row_length").asInt());
        double workers = Math.max(1, t.workers()); // auto: counted as one worker
        double n = (double) t.run().steps() * workers * t.run().batchSize() * m.seqLen();
        tokenText = String.format(Locale.ROOT, "%.3g%s", n, t.workers() == 0 ? " x w" : "");
        paramText = String.format(Locale.ROOT, "%.3g", (double) m.matrixParameters());
        flopText = String.format(Locale.ROOT, "%.2e", 6.0 * m.matrixParameters() * n);
        tokens += n;
        flop += 6.0 * m.matrixParameters() * n;
      } catch (IOException | RuntimeException e) {
        allKnown = false;
        tokenText = "no tokens";
      }
      lines.add(String.format(Locale.ROOT, "%-4d %-36s %-32s %12s %12s %10s  %s", i + 1, p.runId(), states.get(i),
          tokenText, paramText, flopText, p.label()));
    }
    lines.add(String.format(Locale.ROOT, "grid %s: %s, %.3g tokens, %.2e FLOP (6 x parameters x tokens)%s",
        s.name(), points(s.points().size()), tokens, flop, allKnown ? "" : "; points marked 'no tokens' are not counted:"
            + " their train.tokens has no data-prep output yet (run bin/oflab data-prep first)"));
    lines.add("grid " + s.name() + ": dry run, nothing trained; without --dry-run the points above marked new are"
        + " trained, the unfinished resumed" + (s.metrics() ? ", then metrics" : "")
        + (s.quantEval() ? " and quant-eval" : ""));
    return lines;
  }
}
