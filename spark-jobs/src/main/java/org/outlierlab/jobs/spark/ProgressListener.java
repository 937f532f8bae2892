package org.outlierlab.jobs.spark;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Prints a line per finished task: tasks done, share of the work done, the job's own detail (e.g. tokens
 * and tokens/s), elapsed time and ETA. The job's counts come from accumulators that drive this display only.
 */
public final class ProgressListener extends SparkListener {
  private final String label;
  private final int totalTasks;
  private final DoubleSupplier fractionDone;
  private final Function<Double, String> detail;
  private final PrintStream out;
  private final long startNanos = System.nanoTime();
  private int finished;

  /**
   * @param fractionDone share of the work done so far, in [0, 1] (e.g. bytes read / bytes to read)
   * @param detail given the elapsed seconds, what to add to the line
   */
  public ProgressListener(String label, int totalTasks, DoubleSupplier fractionDone, Function<Double, String> detail,
      PrintStream out) {
    this.label = label;
    this.totalTasks = totalTasks;
    this.fractionDone = fractionDone;
    this.detail = detail;
    this.out = out;
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
    if (!"Success".equals(taskEnd.reason().toString())) {
      out.printf("[%s] a task failed (%s); Spark retries it%n", label, taskEnd.reason());
      return;
    }
    finished++;
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    double fraction = Math.min(1.0, fractionDone.getAsDouble());
    String eta = fraction > 0 && fraction < 1
        ? String.format(Locale.ROOT, ", ETA %.0fs", seconds * (1 - fraction) / fraction)
        : "";
    out.printf(Locale.ROOT, "[%s] %d/%d tasks, %.1f%% done, %s, %.0fs elapsed%s%n",
        label, finished, totalTasks, 100 * fraction, detail.apply(seconds), seconds, eta);
  }
}
