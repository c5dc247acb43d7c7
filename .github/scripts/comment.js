// One comment per marker on the pull request, updated in place: the render diff and the engine preview.
const fs = require("node:fs");

module.exports = async function comment({ github, context, marker, file, what }) {
    let body = `${marker}\n${fs.readFileSync(file, "utf8")}`;
    if (body.length > 60000) {
        body = `${body.slice(0, 60000)}\n\n(cut: the whole ${what} is in the job summary)`;
    }
    const { owner, repo } = context.repo;
    const issue_number = context.payload.pull_request.number;
    const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number });
    const previous = comments.find((existing) => existing.body.startsWith(marker));
    if (previous) {
        await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
    } else {
        await github.rest.issues.createComment({ owner, repo, issue_number, body });
    }
};
