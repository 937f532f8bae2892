package org.outlierlab.model.train;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.metrics.LayerStats;
import org.outlierlab.metrics.MassiveActivations;
import org.outlierlab.metrics.Statistic;
import org.outlierlab.model.graph.Site;
import org.outlierlab.model.run.Alarms;
import org.outlierlab.model.run.Snapshots;
import org.outlierlab.model.train.AlarmSettings.Rule;

/**
 * The outlier alarm (SCIENCE.md §1.8): at a snapshot step, the rules of {@link AlarmSettings} on the rows the
 * snapshot holds of each checked (layer, site), with the metrics job's own definitions (Eq 1's {@link
 * Statistic#KURTOSIS}, Eq 2's {@link Statistic#MMR_MEAN}, {@link MassiveActivations}). It keeps each (layer, site)'s
 * kurtosis at the growth rule's reference snapshot, which checkpoints carry ({@link #references}, {@link #resume}).
 */
public final class OutlierAlarm {
  private static final String REFERENCE_STEP = "alarm.reference_step";
  private static final String REFERENCE = "alarm.reference.";

  private final AlarmSettings s;
  private final String runId;
  private final int nLayers;
  private final int probe;
  private final LongPredicate snapshotAt;
  /** The reference kurtosis by "site.layer", once the reference snapshot is taken (or restored). */
  private final Map<String, Double> reference = new HashMap<>();
  private long referenceStep = -1;
  /** The reference snapshot lies before a resumed run's start and its checkpoint did not carry it. */
  private boolean referenceMissed;

  /** A raised rule: its alarms row, and the warning that explains it. */
  public record Raised(Alarms.Row row, String warning) {}

  /** {@code snapshotAt} says which steps have snapshots, for a resumed run's check of its reference. */
  public OutlierAlarm(AlarmSettings settings, String runId, int nLayers, int probe, LongPredicate snapshotAt) {
    this.s = settings;
    this.runId = runId;
    this.nLayers = nLayers;
    this.probe = probe;
    this.snapshotAt = snapshotAt;
  }

  public boolean stops() {
    return s.action() == AlarmSettings.Action.STOP;
  }

  /**
   * The rules raised by the activations captured at snapshot step {@code step} (sites named as the model names
   * them), each row's action the configured one; none when the alarm is off or before its warm-up.
   */
  public List<Raised> check(long step, Map<String, INDArray> activations) {
    List<Raised> raised = new ArrayList<>();
    if (!s.on()) {
      return raised;
    }
    boolean takesReference = s.rules().contains(Rule.GROWTH) && referenceStep < 0 && !referenceMissed
        && step >= s.referenceStep();
    boolean checks = step >= s.warmupSteps();
    for (Map.Entry<String, INDArray> e : activations.entrySet()) {
      String site = Site.kind(e.getKey());
      if ((takesReference || checks) && s.sites().contains(site)) {
        int layer = Site.layer(e.getKey(), nLayers);
        float[][] rows = Snapshots.probeRows(e.getValue(), probe);
        Values v = values(rows, takesReference && !checks ? EnumSet.of(Rule.GROWTH) : s.rules());
        if (takesReference) {
          reference.put(site + "." + layer, v.kurtosis);
        }
        if (checks) {
          raised.addAll(rules(step, layer, site, v));
        }
      }
    }
    if (takesReference) {
      referenceStep = step;
    }
    return raised;
  }

  /** What the rules need of one (layer, site): NaN where no checked rule needs it. */
  private record Values(double kurtosis, double mmr, MassiveActivations massive) {}

  private static Values values(float[][] rows, Set<Rule> rules) {
    Set<Statistic> stats = EnumSet.noneOf(Statistic.class);
    if (rules.contains(Rule.KURTOSIS) || rules.contains(Rule.GROWTH)) {
      stats.add(Statistic.KURTOSIS);
    }
    if (rules.contains(Rule.MAX_MEDIAN_RATIO)) {
      stats.add(Statistic.MMR_MEAN);
    }
    LayerStats layer = new LayerStats(rows[0].length, stats);
    for (float[] row : rows) {
      layer.add(row);
    }
    Map<String, Double> m = layer.metrics();
    return new Values(m.getOrDefault(Statistic.KURTOSIS.metric(), Double.NaN),
        m.getOrDefault(Statistic.MMR_MEAN.metric(), Double.NaN),
        rules.contains(Rule.MASSIVE_ACTIVATION) ? MassiveActivations.of(rows) : null);
  }

  private List<Raised> rules(long step, int layer, String site, Values v) {
    List<Raised> raised = new ArrayList<>();
    String action = s.action().name().toLowerCase(Locale.ROOT);
    for (Rule rule : s.rules()) {
      double value;
      double threshold;
      String why;
      switch (rule) {
        case KURTOSIS -> {
          value = v.kurtosis;
          threshold = s.kurtosis();
          why = "kurtosis (Eq 1) " + num(value) + " > train.alarm.kurtosis = " + num(threshold);
        }
        case MAX_MEDIAN_RATIO -> {
          value = v.mmr;
          threshold = s.maxMedianRatio();
          why = "max_median_ratio (Eq 2, mean over tokens) " + num(value) + " > train.alarm.max_median_ratio = "
              + num(threshold);
        }
        case MASSIVE_ACTIVATION -> {
          value = v.massive.maxAbs();
          double relative = s.massiveRatio() * v.massive.medianAbs();
          threshold = Math.max(s.massiveAbs(), relative);
          why = "massive_activation: max |a| " + num(value) + " > train.alarm.massive_abs = " + num(s.massiveAbs())
              + " and > " + num(relative) + " = train.alarm.massive_ratio " + num(s.massiveRatio())
              + " x the median |a| " + num(v.massive.medianAbs());
        }
        case GROWTH -> {
          Double ref = reference.get(site + "." + layer);
          if (ref == null) {
            continue; // no reference yet, or none for this (layer, site)
          }
          value = v.kurtosis / ref;
          threshold = s.growth();
          why = "growth: kurtosis " + num(v.kurtosis) + " is " + num(value) + " x its " + num(ref) + " at step "
              + referenceStep + " > train.alarm.growth = " + num(threshold);
        }
        default -> throw new IllegalStateException(rule.toString());
      }
      if (value > threshold) {
        raised.add(new Raised(new Alarms.Row(runId, step, layer, site, rule.column(), value, threshold, action),
            String.format(Locale.ROOT, "outlier alarm (%s): run %s, step %d, layer %d, site %s: %s", action, runId,
                step, layer, site, why)));
      }
    }
    return raised;
  }

  /** The growth rule's reference, for a checkpoint's extras (empty until it is taken). */
  public Map<String, String> references() {
    Map<String, String> out = new LinkedHashMap<>();
    if (referenceStep >= 0) {
      out.put(REFERENCE_STEP, Long.toString(referenceStep));
      reference.forEach((key, value) -> out.put(REFERENCE + key, Double.toString(value)));
    }
    return out;
  }

  /**
   * Continues a run at {@code start} from its checkpoint's extras; returns a line for the run's progress when the
   * growth rule has no reference (the reference snapshot came before {@code start}, in a run without the growth
   * rule), else null.
   */
  public String resume(long start, Map<String, String> extras) {
    if (extras.containsKey(REFERENCE_STEP)) {
      referenceStep = Long.parseLong(extras.get(REFERENCE_STEP));
      extras.forEach((key, value) -> {
        if (key.startsWith(REFERENCE)) {
          reference.put(key.substring(REFERENCE.length()), Double.parseDouble(value));
        }
      });
      return null;
    }
    for (long step = s.referenceStep(); step < start; step++) {
      if (snapshotAt.test(step)) {
        referenceMissed = s.on() && s.rules().contains(Rule.GROWTH);
        return referenceMissed ? "outlier alarm: no growth rule in this run: its reference snapshot (step " + step
            + ") came before the checkpoint at step " + start + ", which does not carry it" : null;
      }
    }
    return null;
  }

  private static String num(double x) {
    return String.format(Locale.ROOT, "%.4g", x);
  }
}
