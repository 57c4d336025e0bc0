"""The frameworks every new district starts with (written for Loupe)."""

from __future__ import annotations

from typing import Any

LEVELS = ("Beginning", "Developing", "Proficient", "Exemplary")

FIVE_DIMENSIONS: dict[str, Any] = {
    "name": "Loupe instructional framework",
    "description": "Five dimensions of a strong lesson, each with four levels.",
    "dimensions": [
        {
            "name": "Classroom culture",
            "description": "Routines, relationships and expectations that let every student learn.",
            "colour": "#4f46e5",
            "descriptors": (
                "Routines are unclear or unevenly followed; much time goes to managing behaviour and some students are left out of the work.",
                "Core routines exist but need frequent reminders; the teacher responds to disruption more than preventing it.",
                "Routines run with little prompting; expectations are clear and respectful, and most students are on task most of the time.",
                "Students own the routines and support each other; time goes to learning and the room feels safe for taking risks.",
            ),
        },
        {
            "name": "Lesson content",
            "description": "The accuracy and rigour of what students are asked to learn.",
            "colour": "#0891b2",
            "descriptors": (
                "The content is inaccurate, off grade level or unconnected to the lesson's goal.",
                "The content is accurate and on grade level, but the goal is unclear or the tasks ask for little thinking.",
                "A clear, grade-appropriate goal; tasks ask students to think, explain and apply, not only recall.",
                "Students grapple with rich, well-sequenced content and connect it to earlier learning and the world beyond class.",
            ),
        },
        {
            "name": "Student engagement",
            "description": "Who does the thinking, and how much of the class takes part.",
            "colour": "#ea580c",
            "descriptors": (
                "A few students answer while most watch; the teacher does most of the talking and thinking.",
                "Some structures invite participation, but many students can stay passive.",
                "Most students talk, write or work on the key idea; turn-and-talk, cold call or all-write are used well.",
                "Nearly all students carry the thinking: they build on each other's ideas and ask their own questions.",
            ),
        },
        {
            "name": "Access to content",
            "description": "Whether every student, including multilingual learners and students with disabilities, can reach the lesson.",
            "colour": "#16a34a",
            "descriptors": (
                "The lesson offers one way in; students who need support cannot reach the core task.",
                "Supports exist but are generic or come late; some students wait or copy.",
                "Scaffolds, language supports and accommodations let most students work on the grade-level task.",
                "Supports are planned for specific students and faded as they gain independence; every student does the core task.",
            ),
        },
        {
            "name": "Monitoring of student progress",
            "description": "How the teacher checks understanding and adjusts the lesson.",
            "colour": "#db2777",
            "descriptors": (
                "Understanding is rarely checked, or only with whole-class questions such as 'Any questions?'.",
                "Understanding is checked now and then, but what the checks show does not change the lesson.",
                "Frequent checks (hinge questions, circulating, exit tickets) reveal misconceptions and the teacher adjusts.",
                "The teacher follows every student's understanding as the lesson runs, and students check and correct their own work.",
            ),
        },
    ],
}

GLOW_AND_GROW: dict[str, Any] = {
    "name": "Glow and Grow",
    "description": "Quick feedback: a strength to keep, a next step to try.",
    "dimensions": [
        {
            "name": "Glow",
            "description": "A strength to keep doing.",
            "colour": "#16a34a",
            "descriptors": (),
        },
        {
            "name": "Grow",
            "description": "A next step to try.",
            "colour": "#f59e0b",
            "descriptors": (),
        },
    ],
}


def spec(template: dict[str, Any]) -> dict[str, Any]:
    """Return a built-in framework in the import/export format."""
    return {
        "name": template["name"],
        "description": template["description"],
        "dimensions": [
            {
                "name": d["name"],
                "description": d["description"],
                "colour": d["colour"],
                "levels": [
                    {"score": i + 1, "label": LEVELS[i], "descriptor": text}
                    for i, text in enumerate(d["descriptors"])
                ],
            }
            for d in template["dimensions"]
        ],
    }


BUILTINS = {"loupe-five": FIVE_DIMENSIONS, "glow-grow": GLOW_AND_GROW}
