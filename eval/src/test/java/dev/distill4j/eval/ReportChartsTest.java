package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/**
 * Every chart of both reports names its vertical axis with a {@code <text>} a reader can see: rotated to read bottom
 * to top, left of the plot, and not clipped away. The reports are rendered from hand-made scorecards, so the charts
 * are drawn exactly as {@code distill eval} draws them, without a model.
 */
class ReportChartsTest {
    private static final int W = 640;
    private static final int H = 320;

    @Test
    void textReportChartsLabelTheirVerticalAxes() throws Exception {
        Map<String, Document> charts = SvgCharts.charts(ReportWriter.html(textScorecard(), trainingLog()));
        assertThat(charts).containsOnlyKeys("loss", "agreement", "bars");
        assertVerticalLabel(charts.get("loss"), "loss");
        assertVerticalLabel(charts.get("agreement"), "agreement");
        assertVerticalLabel(charts.get("bars"), "score");
        // the metric names under the bars are whole, wrapped rather than cut to "top…"
        var texts = charts.get("bars").getElementsByTagName("text");
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < texts.getLength(); i++) {
            String t = texts.item(i).getTextContent();
            assertThat(t).as("a category label").doesNotContain("…").doesNotEndWith("...");
            all.append(t).append(' ');
        }
        assertThat(all.toString()).contains("exact").contains("match").contains("chrF").contains("ROUGE-L")
                .contains("top-1").contains("agreement").contains("task").contains("accuracy");
    }

    /**
     * Two students' curves in one chart, on integer step ticks: with a single evaluation point at step 120 the
     * automatic ticks used to be ten copies of "1.2E2", and a one-point eval series drew nothing.
     */
    @Test
    void severalStudentsCurvesShareTheChartsOnIntegerSteps() throws Exception {
        TrainingLog kd = new TrainingLog(Map.of(
                "loss", List.of(new double[] {1, 4.2}, new double[] {60, 2.1}, new double[] {120, 1.5}),
                "eval_loss", List.of(new double[] {120, 1.7}),
                "eval_top1_agreement", List.of(new double[] {120, 0.61})));
        TrainingLog sft = new TrainingLog(Map.of(
                "loss", List.of(new double[] {1, 4.3}, new double[] {60, 2.6}, new double[] {120, 2.0}),
                "eval_loss", List.of(new double[] {120, 2.2}),
                "eval_top1_agreement", List.of(new double[] {120, 0.55})));
        var logs = new java.util.LinkedHashMap<String, TrainingLog>();
        logs.put("kd", kd);
        logs.put("sft", sft);
        Map<String, Document> charts = SvgCharts.charts(ReportWriter.html(textScorecard(), logs));
        for (String id : List.of("loss", "agreement")) {
            var texts = charts.get(id).getElementsByTagName("text");
            List<String> all = new java.util.ArrayList<>();
            for (int i = 0; i < texts.getLength(); i++) all.add(texts.item(i).getTextContent());
            assertThat(all).as(id + " labels").noneMatch(t -> t.matches(".*\\d[.,]?\\d*E\\d.*"));
            assertThat(all).as(id + " step ticks").contains("0", "120");
            if (id.equals("loss")) assertThat(all).contains("kd loss", "kd eval loss", "sft loss", "sft eval loss");
            else assertThat(all).contains("kd", "sft");
        }
        // a single evaluation point is drawn as a marker, not an invisible zero-length line
        String agreement = ReportWriter.svg("agreement", () -> ReportWriter.stepChart("Held-out top-1 agreement",
                "agreement", Map.of("kd", kd.get("eval_top1_agreement"))));
        assertThat(agreement).containsAnyOf("<circle", "<ellipse", "<rect x=").doesNotContain("E2<");
    }

    @Test
    void embeddingReportChartsLabelTheirVerticalAxes() throws Exception {
        double[] teacher = {0.1, 0.4, 0.7, 0.9};
        var pairs = new EmbeddingEvaluator.PairSample(teacher, List.of(new double[] {0.2, 0.3, 0.8, 0.85},
                new double[] {0.5, 0.2, 0.6, 0.7}));
        Map<String, Document> charts = SvgCharts.charts(EmbeddingReport.html(embeddingScorecard(), pairs));
        assertThat(charts).containsOnlyKeys("cosines", "speed", "recall");
        assertVerticalLabel(charts.get("cosines"), "student cosine");
        assertVerticalLabel(charts.get("speed"), "sentences/s");
        assertVerticalLabel(charts.get("recall"), "recall@k");
    }

    /** Every speed bar has a visible height: the log axis starts a decade below the slowest model. */
    @Test
    void theSpeedAxisStartsBelowTheSlowestModelAndTheReportNamesReferences() throws Exception {
        // the session-6 report: teacher 9 sentences/s batched and 5.2 one at a time (1000 / 190.9 ms)
        assertThat(EmbeddingReport.speedAxisRange(new double[] {9, 5.24, 1496, 4500, 17, 8.4})).containsExactly(1, 10_000);
        assertThat(EmbeddingReport.speedAxisRange(new double[] {10, 100})).containsExactly(1, 100);
        assertThat(EmbeddingReport.speedAxisRange(new double[] {150, 90_000})).containsExactly(10, 100_000);
        assertThat(EmbeddingReport.speedAxisRange(new double[] {110, 143, 25_373})).containsExactly(10, 100_000);
        assertThat(EmbeddingReport.speedAxisRange(new double[] {400, 25_373})).containsExactly(100, 100_000);
        assertThat(EmbeddingReport.speedAxisRange(new double[] {0, Double.NaN})).containsExactly(1, 10);

        var c = embeddingScorecard();
        var ref = c.students().get(1);
        var withReference = new EmbeddingScorecard(c.evaluation(), c.toolVersion(), "2026-12-05T06:45:29.815979707Z",
                c.parameters(), c.corpus(), c.machine(), c.teacher(), List.of(c.students().get(0),
                new EmbeddingScorecard.Student(ref.dir(), "all-minilm-l6-v2", "onnx", ref.efficiency(), ref.speedup(),
                        ref.latencySpeedup(), ref.sizeRatio(), ref.fidelity(), "reference")));
        String html = EmbeddingReport.html(withReference, new EmbeddingEvaluator.PairSample(new double[] {0.1, 0.4},
                List.of(new double[] {0.2, 0.3}, new double[] {0.5, 0.2})));
        assertThat(html).contains("<br><small>(reference)</small></th>").contains("A <em>reference</em> column")
                .contains("Generated 2026-12-05 06:45:29 UTC").doesNotContain("815979707");
        assertThat(EmbeddingReport.html(c, new EmbeddingEvaluator.PairSample(new double[] {0.1, 0.4},
                List.of(new double[] {0.2, 0.3}, new double[] {0.5, 0.2})))).doesNotContain("(reference)");
    }

    /** The checker itself: a label drawn where its clip path excludes it is caught. */
    @Test
    void aLabelOutsideItsClipPathIsCaught() throws Exception {
        String svg = "<svg id='t' xmlns='http://www.w3.org/2000/svg' width='640.0' height='320.0'><defs>"
                + "<clipPath id='t-clip-0'><path d='M0.0,0.0L640.0,0.0L640.0,320.0L0.0,320.0L0.0,0.0Z'/></clipPath>"
                + "</defs><g transform='matrix(0.0,-1.0,1.0,0.0,-121.5,160.5)'>"
                + "<text x='-32.0' y='146.2' clip-path='url(#t-clip-0)'>score</text></g></svg>";
        // the clip is the whole chart in page coordinates, but it is read in the rotated space of the text
        assertThatThrownBy(() -> SvgCharts.visibleVerticalLabel(SvgCharts.parse(svg), "score"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("clipped away by url(#t-clip-0)");
        String fixed = svg.replace("M0.0,0.0L640.0,0.0L640.0,320.0L0.0,320.0L0.0,0.0Z",
                "M160.5,121.5L160.5,761.5L-159.5,761.5L-159.5,121.5L160.5,121.5Z");
        assertThat(SvgCharts.visibleVerticalLabel(SvgCharts.parse(fixed), "score").getX()).isBetween(0.0, 40.0);
        assertThatThrownBy(() -> SvgCharts.visibleVerticalLabel(SvgCharts.parse(fixed), "loss"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("0 <text> elements read 'loss' bottom to top");
    }

    private static void assertVerticalLabel(Document chart, String label) {
        var anchor = SvgCharts.visibleVerticalLabel(chart, label);
        // left of the plot area (which starts after the tick labels), within the chart's height
        assertThat(anchor.getX()).as(label + " x").isBetween(0.0, W / 8.0);
        assertThat(anchor.getY()).as(label + " y").isBetween(0.0, (double) H);
    }

    private static TrainingLog trainingLog() {
        return new TrainingLog(Map.of(
                "loss", List.of(new double[] {1, 4.2}, new double[] {2, 3.1}, new double[] {3, 2.5}),
                "eval_loss", List.of(new double[] {2, 3.3}),
                "eval_top1_agreement", List.of(new double[] {1, 0.2}, new double[] {3, 0.45})));
    }

    private static Scorecard textScorecard() {
        var model = new Scorecard.ModelEfficiency("student", 1_000_000, 4_000_000, 4_100_000, 3, 30, 60, 900.0,
                120.0, 80.0, 95.0, 82.0);
        return new Scorecard("0.1.0", "2026-11-24T15:00:00Z", Map.of(),
                new Scorecard.Split("held-out", 0.1, null, List.of("p1", "p2", "p3"), 3, 0),
                new Scorecard.TeacherInfo("openai", "gpt-test", "http://127.0.0.1", "TOP_K(5)"),
                new Scorecard.StudentInfo("runs/x/student", "llama", 1_000_000, "F32"),
                new Scorecard.TeacherForcedMetrics(3, 60, 1.5, 4.48, 0.62, 0.4, 60, 0.9),
                new Scorecard.GenerationMetrics(3, "greedy", 32, 0.33, 55.0, 56.0, 0.5, 20, 22, 0.0),
                new Scorecard.TaskAccuracy(3, 0.33, 0.67, "number"), null,
                new Scorecard.Efficiency(model, null, new Scorecard.RemoteTeacher(3, 30, 66, 150.0, 140.0, 180.0, 40.0),
                        1.0, 2.0, 1.7, 0.0001, "local"),
                List.of(), List.of());
    }

    private static EmbeddingScorecard embeddingScorecard() {
        var fidelity = new EmbeddingScorecard.Fidelity(0.8, 0.6,
                List.of(0.3, 0.35, 0.4, 0.45, 0.5, 0.52, 0.55, 0.57, 0.59, 0.6), 0.65, 0.7);
        var student = new EmbeddingScorecard.Efficiency(32, 976_704L, 3_906_816L, 90_000, 0.05);
        return new EmbeddingScorecard("embedding", "0.1.0", "2026-11-24T15:00:00Z", Map.of(),
                new EmbeddingScorecard.Corpus("generated", 4, 6, 4),
                new EmbeddingScorecard.Machine(2, 1.0, 1.1, "Linux", "amd64", "25"),
                new EmbeddingScorecard.Teacher("bge-small-en-v1.5",
                        new EmbeddingScorecard.Efficiency(384, 33_360_000L, 133_000_000L, 150, 9.0)),
                List.of(new EmbeddingScorecard.Student("students/static-32", "static-32", "static", student, 600,
                                180, 34.0, fidelity),
                        new EmbeddingScorecard.Student("students/static-8", "static-8", "static", student, 600, 180,
                                34.0, fidelity)));
    }
}
